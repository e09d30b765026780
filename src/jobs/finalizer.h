// Ending a job, off the scheduler thread: for a job whose mini-batches are all
// done or failed, its output is assembled and synced to disk and its reports
// written; for a job stopped early (canceled, failed), only its reports. The
// scheduler records the status the Work returns (reports first, status last:
// whoever sees the final status finds the reports written).
//
// Idempotent: after a crash at any point, running it again gives the same
// outcome (see output_assembly.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "jobs/job_files.h"
#include "jobs/job_spec.h"
#include "jobs/output_assembly.h"
#include "jobs/work_pool.h"
#include "store/job_store.h"

namespace lote::jobs {

struct Finalized {
  store::JobStatus status = store::JobStatus::kFailed;  // the status to record
  std::string error;
  int64_t rows = -1;               // rows in the output; -1: none written
  std::vector<int64_t> missing;    // done mini-batches whose rows were lost: run them again
};

// Where the job's output goes.
OutputPlace PlaceOf(const JobSpec& spec);

// job: as read when it entered Finalizing. now_ms: its end time. early: the
// cursor of the assembly begun while the job ran (early_assembly.h), if any.
Result<Finalized> FinalizeJob(const store::JobRecord& job, const JobSpec& spec, const JobDir& dir,
                              store::JobStore& store, int64_t now_ms,
                              std::optional<AssemblyCursor> early = std::nullopt);

// The reports of a job that stops early with `status` (Canceled or Failed)
// and `why`; its pending mini-batches are already marked not run. Nothing
// it did is thrown away: with its spec (null for a job whose spec cannot be
// read), the rows its done mini-batches committed are written, in input
// order, to the output's partial file (PartialOutputName); the job's log says
// so, and GetJob shows it as output.partial.
Result<Finalized> CloseJobEarly(const std::string& job, const JobSpec* spec, store::JobStatus status,
                                const std::string& why, const JobDir& dir, store::JobStore& store,
                                int64_t now_ms);

// "predictions.csv" -> "predictions.partial.csv"; "scores" -> "scores.partial".
std::string PartialOutputName(const std::string& file_name);

}  // namespace lote::jobs
