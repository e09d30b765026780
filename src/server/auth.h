// Who is calling, and may they call this route. The admin token may call
// everything; an endpoint token may only invoke its own endpoint; an agent
// token may only call its own job's agent API (docs/agent-api.md).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "server/tokens.h"

namespace lote::server {

struct Principal {
  bool admin = false;
  std::string endpoint;  // set for endpoint tokens
  std::string job;       // set for agent tokens
};

// Reads "Authorization: Bearer <token>". Unauthenticated when missing or invalid.
Result<Principal> Authenticate(std::string_view authorization_header, std::string_view admin_token,
                               const TokenSigner& signer, int64_t now);

// PermissionDenied when the principal may not call method+path.
Status Authorize(const Principal& who, std::string_view method, std::string_view path);

}  // namespace lote::server
