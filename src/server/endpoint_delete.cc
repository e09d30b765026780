#include "server/endpoint_delete.h"

#include <vector>

namespace lote::server {

namespace {
bool IsLive(const std::string& status) {
  return status != "Completed" && status != "Failed" && status != "Canceled";
}
}  // namespace

Status DeleteEndpointWithJobs(registry::Registry& registry, jobs::JobManager& jobs, const std::string& name,
                              bool force) {
  LOTE_TRY(registry.GetEndpoint(name));  // NotFound before anything else
  LOTE_ASSIGN_OR_RETURN(nlohmann::json listed, jobs.ListJobs(name));
  std::vector<std::pair<std::string, std::string>> live;  // name, status
  for (const auto& job : listed) {
    std::string status = job.value("status", "");
    if (IsLive(status)) live.emplace_back(job.value("name", ""), status);
  }
  if (!live.empty() && !force) {
    std::string names;
    for (size_t i = 0; i < live.size() && i < 10; ++i) {
      names += (i ? ", " : "") + live[i].first + " (" + live[i].second + ")";
    }
    if (live.size() > 10) names += ", and " + std::to_string(live.size() - 10) + " more";
    return FailedPrecondition("endpoint '" + name + "' has " + std::to_string(live.size()) + " live job" +
                              (live.size() == 1 ? "" : "s") + ": " + names +
                              "; wait for them, cancel them (`lote job cancel`), or delete with --force "
                              "(REST: ?force=true), which cancels them first");
  }
  for (const auto& [job, status] : live) {
    if (status == "Finalizing" || status == "CancelRequested") continue;  // ends by itself
    auto canceled = jobs.Cancel(job);
    // A job that ended meanwhile cannot be canceled and needs not be.
    if (!canceled && canceled.error().code() != ErrorCode::kFailedPrecondition) {
      return canceled.error().WithContext("canceling job '" + job + "' of endpoint '" + name + "'");
    }
  }
  return registry.DeleteEndpoint(name);
}

}  // namespace lote::server
