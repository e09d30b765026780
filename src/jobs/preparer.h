// Preparing a job, off the scheduler thread: its input is listed (and URL
// inputs downloaded) and cut into mini-batches in the store. Runs on the
// preparation pool; the scheduler only looks at the Work's result.
#pragma once

#include "jobs/job_files.h"
#include "jobs/job_spec.h"
#include "jobs/planner.h"
#include "jobs/work_pool.h"
#include "storage/url_policy.h"
#include "store/job_store.h"

namespace lote::jobs {

// Plans the job from scratch (tasks of an interrupted attempt are dropped
// first). Stops early, with an error, once work.canceled().
Result<PlanResult> PrepareJob(const JobSpec& spec, const JobDir& dir, store::JobStore& store,
                              const storage::UrlPolicy& url_policy, const Work<PlanResult>& work);

}  // namespace lote::jobs
