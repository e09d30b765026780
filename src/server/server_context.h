// What every route handler gets: the registry, the token signer and limits.
#pragma once

#include <httplib.h>

#include <string>

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

// Route groups, one file each.
void RegisterComputeRoutes(httplib::Server& http, ServerContext& ctx);
void RegisterModelRoutes(httplib::Server& http, ServerContext& ctx);
void RegisterDataRoutes(httplib::Server& http, ServerContext& ctx);
void RegisterDatastoreRoutes(httplib::Server& http, ServerContext& ctx);
void RegisterEndpointRoutes(httplib::Server& http, ServerContext& ctx);
void RegisterUploadRoutes(httplib::Server& http, ServerContext& ctx);
void RegisterJobRoutes(httplib::Server& http, ServerContext& ctx);

}  // namespace lote::server
