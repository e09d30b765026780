// Planning: the job's input becomes an ordered list of files, cut into
// mini-batches (tasks) in the job store. Files are sorted by name; a folder is
// read one level deep, as Azure does. A mini_batch_size with a unit ("64MB")
// cuts large text files (CSV, JSONL, TXT) into line-aligned byte ranges; a CSV
// range carries the file's header line.
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
Result<PlanResult> PlanJob(const nlohmann::json& job, const std::filesystem::path& input_dir,
                           store::JobStore& store, const storage::UrlPolicy& url_policy = {});

// The byte ranges [offset, offset+length) of `path` for a given target size;
// each range ends at a line end. first_offset skips a header line.
Result<std::vector<std::pair<uint64_t, uint64_t>>> LineAlignedRanges(
    const std::filesystem::path& path, uint64_t first_offset, uint64_t target);

}  // namespace lote::jobs
