// The report files of a job, in Azure's layout:
//   logs/job_progress_overview.txt          while it runs
//   logs/job_result.txt                     when it ends: status, reason, counts,
//                                           the first failures, the output
//   logs/sys/job_report/processed_mini-batches.csv   one line per mini-batch
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobs/job_files.h"
#include "store/job_store.h"

namespace lote::jobs {

// view: JobView() of the job.
Status WriteProgressOverview(const JobDir& dir, const nlohmann::json& view);

// view: JobView() of the job as it ends (its final status and error).
Status WriteFinalReports(const JobDir& dir, const nlohmann::json& view, store::JobStore& store);

// "mini-batch 3 (a.csv): RUN_EXCEPTION: …" for the first `limit` failed
// mini-batches, in input order.
Result<std::vector<std::string>> FirstFailures(store::JobStore& store, const std::string& job,
                                               size_t limit);

}  // namespace lote::jobs
