// Deleting an endpoint while jobs of it are still live (not Completed,
// Failed or Canceled) is refused, naming them, unless forced; forced, each
// live job is asked to cancel first (a Finalizing job is left to finish: its
// output is nearly written, and it needs nothing of the endpoint), then the
// endpoint goes. Jobs run from their own copy of the deployment's code, so
// they never depend on the deleted endpoint's files.
//
// REST: DELETE /api/v1/endpoints/{name}[?force=true]; CLI: `lote endpoint
// delete --name N [--force]`. Not atomic with invokes: a job invoked between
// the check and the delete runs to its end with its own copy of the code.
#pragma once

#include <string>

#include "common/status.h"
#include "jobs/job_manager.h"
#include "registry/registry.h"

namespace lote::server {

// FailedPrecondition (409) naming the live jobs when !force; NotFound when
// there is no such endpoint.
Status DeleteEndpointWithJobs(registry::Registry& registry, jobs::JobManager& jobs, const std::string& name,
                              bool force);

}  // namespace lote::server
