// Planning: the job's input becomes an ordered list of files, cut into
// mini-batches (tasks) in the job store. Files are sorted by name; a folder is
// read one level deep, as Azure does. A mini_batch_size with a unit ("64MB")
// cuts large text files (CSV, TSV, JSONL, NDJSON, TXT) into byte ranges that
// end where records end (jobs/byte_ranges.h: RFC 4180 quoting, a byte order
// mark, extensions in any case); a CSV/TSV range carries the file's header
// record. A large Parquet file is cut into mini-batches of whole row groups
// when the native no-code scorer reads it (jobs/planner_parquet.h). Items
// name their files with common/fs_name.h's byte fields, so a
// name that is not UTF-8 is planned like any other.
#pragma once

#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

#include "storage/url_policy.h"
#include "store/job_store.h"

namespace lote::jobs {

struct PlanResult {
  int64_t files = 0;
  int64_t tasks = 0;
  uint64_t bytes = 0;
};

// job: the job document (input, settings). URL inputs are downloaded into
// input_dir first, from the hosts url_policy allows. A datastore folder is
// listed beneath its datastore: a link in it that leads out fails planning
// with an error naming the link, and every file is recorded by its real path
// (what was checked is what the agents read). Tasks are appended in chunks,
// so memory holds file names only, never contents.
// canceled: polled between files and during downloads; true stops the
// planning with FailedPrecondition (the job was canceled meanwhile).
Result<PlanResult> PlanJob(const nlohmann::json& job, const std::filesystem::path& input_dir,
                           store::JobStore& store, const storage::UrlPolicy& url_policy = {},
                           const std::function<bool()>& canceled = {});

}  // namespace lote::jobs
