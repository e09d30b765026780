// JobManager::CommitResultsFile: a batch of results that a local agent wrote
// into the job's staging folder itself (docs/agent-api.md, "Results by
// file"), so its rows never cross a socket.
#include "jobs/job_manager_impl.h"
#include "jobs/results_file.h"

namespace lote::jobs {

Result<nlohmann::json> JobManagerImpl::CommitResultsFile(const std::string& job, const std::string& file,
                                                         uint64_t bytes) {
  LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(job));
  if (store::IsTerminal(rec.state.status)) {
    // Its staging folder is given back once it ended (as StagingPath says).
    return FailedPrecondition("job '" + job + "' is " + std::string(store::JobStatusName(rec.state.status)) +
                              ": it takes no more results");
  }
  LOTE_ASSIGN_OR_RETURN(auto spec, SpecOf(rec));
  if (spec->access.artifacts != AccessMode::kDirect) {
    return InvalidArgument("job '" + job + "' has agents with remote access: they post their rows in the body",
                           "file");
  }
  LOTE_ASSIGN_OR_RETURN(std::filesystem::path claimed, ClaimResultsFile(DirOf(job).staging(), file, bytes));
  return CommitResults(job, claimed);  // removes the claimed file unless it committed it
}

}  // namespace lote::jobs
