// What an ended job gives back (docs/jobs.md, "Disk space").
//
// A job's committed rows live in its results folder until its output (or
// partial output) is assembled; once its terminal status is recorded they
// are in the output and the copies are removed, with the job's staging
// (results being received) and input (downloaded http inputs) folders. The
// order is what makes a crash harmless: the status is recorded after the
// output is synced (finalizer.h), and the folders are removed only after the
// status is recorded, so a restart finds either a job to finalize with every
// results file, or an ended job whose leftovers are removed again
// (ReclaimJobFiles is idempotent; a missing folder is fine).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "jobs/job_files.h"
#include "jobs/job_spec.h"
#include "store/job_store.h"

namespace lote::jobs {

struct Reclaimed {
  uint64_t bytes = 0;  // what the removed files held
  int64_t files = 0;
};

// Removes dir's results (unless keep_results), staging and input folders.
// Call only for a job whose terminal status is recorded. IoError naming the
// folder when one cannot be removed (what could be removed is gone).
Result<Reclaimed> ReclaimJobFiles(const JobDir& dir, bool keep_results = false);

// Whether an ended job's committed rows are all somewhere else than its
// results folder, so that removing it loses nothing: the output was written
// (output_rows >= 0), or the partial output is there (a job that stopped
// early), or there were none to keep (no mini-batch done, summary_only).
// A job whose output could not be written (a full disk, a file that
// appeared in the output location) keeps its results.
bool RowsAreSaved(const store::JobRecord& rec, const JobSpec& spec);

// Whether any of those folders is still there (a restart finishes the work).
bool HasReclaimableFiles(const JobDir& dir);

// Where `lote endpoint invoke --input-local-path` uploads the input: a
// folder of its own in the default datastore, named for the upload.
inline constexpr const char* kUploadDatastore = "workspaceblobstore";
inline constexpr const char* kJobUploadPrefix = "LocalUpload/job-";

// The upload folder ("LocalUpload/job-<16 hex>") a job's input lies in, from
// its document's input {kind: path, datastore, rel}; "" when the input is
// anything else (a data asset's own upload, another datastore, a URL): only
// these folders are ever reclaimed.
std::string UploadFolderOf(const nlohmann::json& job_doc);

}  // namespace lote::jobs
