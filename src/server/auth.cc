#include "server/auth.h"

#include "common/crypto.h"

namespace lote::server {

Result<Principal> Authenticate(std::string_view header, std::string_view admin_token,
                               const TokenSigner& signer, int64_t now) {
  constexpr std::string_view kBearer = "Bearer ";
  if (header.empty()) {
    return Error(ErrorCode::kUnauthenticated,
                 "missing 'Authorization: Bearer <token>' header (the admin token is in "
                 "$LOTE_HOME/admin_token; endpoint tokens come from `lote endpoint get-token`)");
  }
  if (!header.starts_with(kBearer)) {
    return Error(ErrorCode::kUnauthenticated, "Authorization header must be 'Bearer <token>'");
  }
  std::string_view token = header.substr(kBearer.size());
  if (ConstantTimeEquals(token, admin_token)) return Principal{.admin = true, .endpoint = {}, .job = {}};
  LOTE_ASSIGN_OR_RETURN(TokenClaims claims, signer.Verify(token, now));
  return Principal{.admin = false, .endpoint = claims.endpoint, .job = claims.job};
}

Status Authorize(const Principal& who, std::string_view method, std::string_view path) {
  if (who.admin) return {};
  if (!who.job.empty()) {
    std::string prefix = "/api/v1/jobs/" + who.job + "/";
    std::string_view rest = path.substr(std::min(path.size(), prefix.size()));
    if (path.starts_with(prefix) &&
        (rest == "agent-config" || rest == "lease" || rest.starts_with("tasks/"))) {
      return {};
    }
    return Error(ErrorCode::kPermissionDenied, "an agent token may only call the agent API of job '" + who.job + "'");
  }
  std::string invoke = "/api/v1/endpoints/" + who.endpoint + "/jobs";
  if (method == "POST" && path == invoke) return {};
  return Error(ErrorCode::kPermissionDenied,
               "this token may only invoke endpoint '" + who.endpoint + "' (POST " + invoke + ")");
}

}  // namespace lote::server
