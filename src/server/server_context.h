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
};

// The caller of a route an endpoint token may call, checked as the request
// gate could not: its endpoint must be the one the token was issued for.
Status CheckInvoker(const ServerContext& ctx, const http::Request& req);

// Route groups, one file each.
void RegisterComputeRoutes(http::Router& router, ServerContext& ctx);
void RegisterModelRoutes(http::Router& router, ServerContext& ctx);
void RegisterDataRoutes(http::Router& router, ServerContext& ctx);
void RegisterDatastoreRoutes(http::Router& router, ServerContext& ctx);
void RegisterEndpointRoutes(http::Router& router, ServerContext& ctx);
void RegisterUploadRoutes(http::Router& router, ServerContext& ctx);
void RegisterJobRoutes(http::Router& router, ServerContext& ctx);
void RegisterRemoteAgentRoutes(http::Router& router, ServerContext& ctx);

}  // namespace lote::server
