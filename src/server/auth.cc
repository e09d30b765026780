#include "server/auth.h"

#include "common/crypto.h"

namespace lote::server {

Result<Principal> VerifyToken(std::string_view header, std::string_view admin_token, const TokenSigner& signer,
                              int64_t now) {
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
  if (ConstantTimeEquals(token, admin_token)) {
    return Principal{.admin = true, .endpoint = {}, .job = {}, .endpoint_uid = {}, .read_only = false, .session = false};
  }
  LOTE_ASSIGN_OR_RETURN(TokenClaims claims, signer.Verify(token, now));
  if (claims.scope == "read") {
    return Principal{.admin = false, .endpoint = {}, .job = {}, .endpoint_uid = {}, .read_only = true, .session = false};
  }
  return Principal{.admin = false, .endpoint = claims.endpoint, .job = claims.job,
                   .endpoint_uid = claims.endpoint_uid, .read_only = false, .session = false};
}

Status CheckEndpointIdentity(const Principal& who, const EndpointUidLookup& endpoint_uid) {
  if (who.admin || who.read_only || !who.job.empty()) return {};
  // An endpoint token: valid for the endpoint it was issued for, not for
  // whatever now has its name.
  auto gone = [&] {
    return Error(ErrorCode::kUnauthenticated,
                 "token is for an endpoint '" + who.endpoint + "' that no longer exists (it was deleted" +
                     " or replaced); get a new token with `lote endpoint get-token --name " + who.endpoint + "`");
  };
  if (!endpoint_uid) return Error(ErrorCode::kUnauthenticated, "endpoint tokens cannot be checked here");
  auto current = endpoint_uid(who.endpoint);
  if (!current && current.error().code() == ErrorCode::kNotFound) return gone();
  if (!current) return current.error();
  if (who.endpoint_uid.empty() || !ConstantTimeEquals(*current, who.endpoint_uid)) return gone();
  return {};
}

Result<Principal> Authenticate(std::string_view header, std::string_view admin_token,
                               const TokenSigner& signer, int64_t now,
                               const EndpointUidLookup& endpoint_uid) {
  LOTE_ASSIGN_OR_RETURN(Principal who, VerifyToken(header, admin_token, signer, now));
  LOTE_TRY(CheckEndpointIdentity(who, endpoint_uid));
  return who;
}

namespace {

// "/api/v1/jobs/<job>/cancel"
bool IsCancelPath(std::string_view path) {
  constexpr std::string_view kJobs = "/api/v1/jobs/", kCancel = "/cancel";
  if (!path.starts_with(kJobs) || !path.ends_with(kCancel)) return false;
  std::string_view job = path.substr(kJobs.size(), path.size() - kJobs.size() - kCancel.size());
  return !job.empty() && job.find('/') == std::string_view::npos;
}

}  // namespace

Status Authorize(const Principal& who, std::string_view method, std::string_view path) {
  if (who.session) {
    if (method == "GET" || method == "HEAD") return {};
    if (method == "POST" && path == "/api/v1/dashboard/logout") return {};
    if (method == "POST" && IsCancelPath(path)) {
      if (!who.read_only) return {};
      return Error(ErrorCode::kPermissionDenied,
                   "this dashboard session is read-only (its login link was made with a read token)");
    }
    return Error(ErrorCode::kPermissionDenied,
                 "a dashboard session may only read and cancel jobs; use the CLI or a bearer token for the rest");
  }
  if (who.admin) return {};
  if (who.read_only) {
    if (method == "GET" || method == "HEAD") return {};
    if (method == "POST" && path == "/api/v1/dashboard/login-links") return {};
    return Error(ErrorCode::kPermissionDenied, "a read token may only read (GET); this needs the admin token");
  }
  if (!who.job.empty()) {
    std::string prefix = "/api/v1/jobs/" + who.job + "/";
    std::string_view rest = path.substr(std::min(path.size(), prefix.size()));
    // Its config, leases and reports; for remote agents also the job's
    // artifacts, blobs, node logs and node outputs (docs/agent-api.md).
    if (path.starts_with(prefix) &&
        (rest == "agent-config" || rest == "lease" || rest == "artifacts" || rest.starts_with("tasks/") ||
         rest.starts_with("blobs/") || rest.starts_with("node-logs/") || rest.starts_with("node-outputs/"))) {
      return {};
    }
    return Error(ErrorCode::kPermissionDenied, "an agent token may only call the agent API of job '" + who.job + "'");
  }
  std::string invoke = "/api/v1/endpoints/" + who.endpoint + "/jobs";
  if (method == "POST" && path == invoke) return {};
  // Reading a job: whether it is one of this endpoint's jobs needs the store,
  // so the route checks that (CheckJobReader); here only the shape.
  if (method == "GET" && IsJobReadPath(path)) return {};
  return Error(ErrorCode::kPermissionDenied,
               "this token may only invoke endpoint '" + who.endpoint + "' (POST " + invoke +
                   ") and read that endpoint's jobs (GET /api/v1/jobs/<job>, its log and files)");
}

bool IsJobReadPath(std::string_view path) {
  constexpr std::string_view kJobs = "/api/v1/jobs/";
  if (!path.starts_with(kJobs)) return false;
  std::string_view rest = path.substr(kJobs.size());
  size_t slash = rest.find('/');
  if (rest.empty() || slash == 0) return false;  // no job name
  if (slash == std::string_view::npos) return true;
  std::string_view sub = rest.substr(slash + 1);
  return sub == "log" || sub == "files" || sub.starts_with("files/") || sub == "failed-items";
}

}  // namespace lote::server
