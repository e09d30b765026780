// The job state machine: which status may follow which, and the one way a
// status changes (a compare-and-set through the store).
//
//   NotStarted → Preparing → Running → Finalizing → Completed | Failed
//   NotStarted | Preparing | Running → CancelRequested → Canceled
//   NotStarted | Preparing | Running → Failed   (planning failed, threshold, agents)
//
// Only the scheduler moves a job forward; REST threads only request a cancel.
// Both go through Move(), so a cancel is never lost to the scheduler and a
// terminal status is never overwritten.
#pragma once

#include <vector>

#include "store/job_store.h"

namespace lote::jobs {

using store::JobStatus;

// Whether `to` may follow `from`.
bool TransitionAllowed(JobStatus from, JobStatus to);

// The statuses from which a cancel may be requested.
inline const std::vector<JobStatus> kCancellable = {JobStatus::kNotStarted, JobStatus::kPreparing,
                                                    JobStatus::kRunning};

// Moves `job` to `to` if its status is one of `from` (each must be a legal
// transition: a bug otherwise). true when it moved, false when the job was
// in another status by then.
Result<bool> Move(store::JobStore& store, const std::string& job,
                  const std::vector<JobStatus>& from, JobStatus to,
                  const store::JobUpdate& update = {});

}  // namespace lote::jobs
