#include "jobs/job_state.h"

namespace lote::jobs {

bool TransitionAllowed(JobStatus from, JobStatus to) {
  using S = JobStatus;
  switch (from) {
    case S::kNotStarted:
      return to == S::kPreparing || to == S::kCancelRequested || to == S::kFailed;
    case S::kPreparing:
      // Back to NotStarted: a restarted control plane plans again from scratch.
      return to == S::kRunning || to == S::kCancelRequested || to == S::kFailed || to == S::kNotStarted;
    case S::kRunning:
      return to == S::kFinalizing || to == S::kCancelRequested || to == S::kFailed;
    case S::kFinalizing:
      // Back to Running: committed rows were found missing and are run again.
      return to == S::kCompleted || to == S::kFailed || to == S::kRunning;
    case S::kCancelRequested:
      return to == S::kCanceled;
    case S::kCompleted:
    case S::kFailed:
    case S::kCanceled:
      return false;
  }
  return false;
}

Result<bool> Move(store::JobStore& store, const std::string& job, const std::vector<JobStatus>& from,
                  JobStatus to, const store::JobUpdate& update) {
  for (JobStatus f : from) LOTE_CHECK(TransitionAllowed(f, to));
  return store.Transition(job, from, to, update);
}

}  // namespace lote::jobs
