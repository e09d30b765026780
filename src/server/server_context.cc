#include "server/server_context.h"

#include "common/util.h"
#include "server/auth.h"

namespace lote::server {

Result<Principal> Identify(const ServerContext& ctx, const http::Request& req) {
  std::string_view authorization = req.HeaderValue("Authorization");
  std::string_view cookie =
      ctx.sessions == nullptr ? std::string_view() : CookieValue(req.HeaderValue("Cookie"), ctx.session_cookie);
  if (!authorization.empty() || cookie.empty()) {
    return VerifyToken(authorization, ctx.admin_token, *ctx.signer, NowUnixSeconds());
  }
  auto session = ctx.sessions->Find(cookie);
  if (!session) {
    return Error(ErrorCode::kUnauthenticated,
                 "the dashboard session has expired or ended: run `lote dashboard` for a new login link");
  }
  LOTE_TRY(CheckSessionRequest(*session, req.method, req.HeaderValue("X-CSRF-Token"), req.HeaderValue("Origin"),
                               req.HeaderValue("Host")));
  return Principal{.admin = !session->read_only, .endpoint = {}, .job = {}, .endpoint_uid = {},
                   .read_only = session->read_only, .session = true};
}

Status CheckInvoker(const ServerContext& ctx, const http::Request& req) {
  LOTE_ASSIGN_OR_RETURN(Principal who, Identify(ctx, req));
  return CheckEndpointIdentity(who, [&ctx](const std::string& endpoint) { return ctx.registry->EndpointUid(endpoint); });
}

Status CheckJobReader(const ServerContext& ctx, const http::Request& req, const std::string& job) {
  LOTE_ASSIGN_OR_RETURN(Principal who, Identify(ctx, req));
  if (who.admin || who.read_only) return {};
  if (!who.job.empty()) {
    return Error(ErrorCode::kPermissionDenied, "an agent token may only call the agent API of job '" + who.job + "'");
  }
  LOTE_TRY(CheckEndpointIdentity(who, [&ctx](const std::string& endpoint) { return ctx.registry->EndpointUid(endpoint); }));
  LOTE_ASSIGN_OR_RETURN(nlohmann::json view, ctx.jobs->GetJob(job));
  const auto endpoint = view.find("endpoint");
  const auto uid = view.find("endpoint_uid");
  const bool own = endpoint != view.end() && endpoint->is_string() && *endpoint == who.endpoint &&
                   uid != view.end() && uid->is_string() && !who.endpoint_uid.empty() && *uid == who.endpoint_uid;
  // Worded as the store words a missing job: not a hint that it exists.
  if (!own) return NotFound("job '" + job + "' not found");
  return {};
}

}  // namespace lote::server
