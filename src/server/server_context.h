// What every route handler gets: the registry, the token signer and limits.
#pragma once

#include <string>

#include "http/router.h"
#include "jobs/job_manager.h"
#include "registry/registry.h"
#include "server/auth.h"
#include "server/sessions.h"
#include "server/tokens.h"

namespace lote::server {

struct ServerContext {
  registry::Registry* registry = nullptr;
  jobs::JobManager* jobs = nullptr;
  TokenSigner* signer = nullptr;
  std::string admin_token;
  int endpoint_token_ttl_s = 24 * 3600;
  LoteMetrics* metrics = nullptr;  // GET /metrics renders its registry
  std::string public_url;  // "http://host:port" as clients reach it (login links)
  SessionStore* sessions = nullptr;  // dashboard logins (server/sessions.h)
  // The session cookie's name: "lote_session_<port>", since browsers keep
  // cookies per host, not per port, and two servers may share 127.0.0.1.
  std::string session_cookie = "lote_session";
};

// Who sent the request: a bearer token when there is an Authorization
// header (VerifyToken), else the dashboard's session cookie. A cookie
// request that changes something must pass CheckSessionRequest (CSRF token,
// Origin): PermissionDenied when it does not. CPU-only: the request gate
// calls it on the I/O thread.
Result<Principal> Identify(const ServerContext& ctx, const http::Request& req);

// The caller of a route an endpoint token may call, checked as the request
// gate could not: its endpoint must be the one the token was issued for.
Status CheckInvoker(const ServerContext& ctx, const http::Request& req);

// A caller reading job `job` (GET the job, its log, its files): the admin
// token, or an endpoint token whose endpoint is still the one it was issued
// for and started this job (the job records its endpoint's uid). Any other
// job is NotFound with the same message as a job that does not exist, so an
// endpoint token learns nothing of other endpoints' jobs.
Status CheckJobReader(const ServerContext& ctx, const http::Request& req, const std::string& job);

// Route groups, one file each.
void RegisterComputeRoutes(http::Router& router, ServerContext& ctx);
void RegisterModelRoutes(http::Router& router, ServerContext& ctx);
void RegisterDataRoutes(http::Router& router, ServerContext& ctx);
void RegisterDatastoreRoutes(http::Router& router, ServerContext& ctx);
void RegisterEndpointRoutes(http::Router& router, ServerContext& ctx);
void RegisterUploadRoutes(http::Router& router, ServerContext& ctx);
void RegisterJobRoutes(http::Router& router, ServerContext& ctx);
void RegisterRemoteAgentRoutes(http::Router& router, ServerContext& ctx);
// GET /metrics (Prometheus) and POST /api/v1/tokens (read tokens).
void RegisterObservabilityRoutes(http::Router& router, ServerContext& ctx);
// The dashboard (docs/dashboard.md): its pages and assets, GET /login, and
// /api/v1/dashboard/{login-links,session,logout}; and the job's mini-batch
// list it draws from, GET /api/v1/jobs/<job>/mini-batches.
void RegisterDashboardRoutes(http::Router& router, ServerContext& ctx);
// Paths answered without authentication: the dashboard's pages ("/",
// "/jobs", "/jobs/<job>", "/endpoints"), its assets ("/ui/…") and "/login".
bool IsPublicDashboardPath(std::string_view path);

}  // namespace lote::server
