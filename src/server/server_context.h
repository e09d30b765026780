// What every route handler gets: the registry, the token signer and limits.
#pragma once

#include <string>

#include "http/router.h"
#include "jobs/job_manager.h"
#include "registry/registry.h"
#include "server/tokens.h"

namespace lote::server {

struct ServerContext {
  registry::Registry* registry = nullptr;
  jobs::JobManager* jobs = nullptr;
  TokenSigner* signer = nullptr;
  std::string admin_token;
  int endpoint_token_ttl_s = 24 * 3600;
  LoteMetrics* metrics = nullptr;  // GET /metrics renders its registry
};

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

}  // namespace lote::server
