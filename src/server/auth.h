// Who is calling, and may they call this route. The admin token may call
// everything; a read token (scope "read") may GET everything and nothing else; an endpoint token may only invoke its own endpoint and read
// that endpoint's jobs (GET the job, its log, its files), and only while that
// endpoint is the one it was issued for (same uid: not deleted, not deleted
// and created again; a job belongs to the endpoint uid that started it); an agent token may only call its own
// job's agent API (docs/agent-api.md): config, lease, tasks/… (reports and
// leased items), artifacts, blobs/… and node-logs/…. Plain strings in, so any HTTP layer
// can call these.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "server/tokens.h"

namespace lote::server {

struct Principal {
  bool admin = false;
  std::string endpoint;      // set for endpoint tokens
  std::string job;           // set for agent tokens
  std::string endpoint_uid;  // the uid an endpoint token was issued for
  bool read_only = false;    // a read token: GET anything, change nothing
  // A dashboard session (server/sessions.h), admin or read-only as the token
  // that logged it in: it may read, cancel jobs and log out, nothing else.
  bool session = false;
};

// The uid of the endpoint named so as it is now; NotFound when there is none.
using EndpointUidLookup = std::function<Result<std::string>(const std::string& endpoint)>;

// Reads "Authorization: Bearer <token>". Unauthenticated when missing,
// invalid, expired, or an endpoint token whose endpoint is gone or was
// replaced (checked with endpoint_uid; without one, endpoint tokens are
// refused). Other lookup errors are returned as they are.
Result<Principal> Authenticate(std::string_view authorization_header, std::string_view admin_token,
                               const TokenSigner& signer, int64_t now,
                               const EndpointUidLookup& endpoint_uid);

// The CPU-only part of Authenticate (HMAC and comparisons, no lookup), for
// the HTTP server's I/O thread: endpoint tokens come back unchecked against
// their endpoint's identity, which the routes they may call then check with
// CheckEndpointIdentity on a handler thread.
Result<Principal> VerifyToken(std::string_view authorization_header, std::string_view admin_token,
                              const TokenSigner& signer, int64_t now);

// Unauthenticated when `who` holds an endpoint token whose endpoint is gone
// or was replaced; OK for every other principal.
Status CheckEndpointIdentity(const Principal& who, const EndpointUidLookup& endpoint_uid);

// PermissionDenied when the principal may not call method+path. A
// dashboard session may GET anything and, unless read-only, POST
// /api/v1/jobs/<job>/cancel; any session may POST /api/v1/dashboard/logout.
// A read token may also POST /api/v1/dashboard/login-links (its session is
// read-only). For an
// endpoint token, a job-reading path passes here and its route must then
// check that the job is the endpoint's (server_context.h, CheckJobReader).
Status Authorize(const Principal& who, std::string_view method, std::string_view path);

// "/api/v1/jobs/<job>", ".../log", ".../files" and ".../files/<path…>".
bool IsJobReadPath(std::string_view path);

}  // namespace lote::server
