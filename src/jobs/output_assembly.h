// Assembling a job's output: the committed rows of every done mini-batch,
// in input order, under the job's one CSV header, into the output file.
//
// The rows are written to a temporary file beside the destination whose name
// is fixed per job, synced to disk, and linked to the destination (link()
// never replaces: a file that appeared there meanwhile is kept and the job
// fails). The folder is synced after the link. Running it again after a crash
// is safe: a destination that is already the same file as the job's
// temporary one was linked by the previous attempt and is taken as written.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "jobs/job_files.h"
#include "jobs/output_convert.h"
#include "store/job_store.h"

namespace lote::jobs {

struct Assembled {
  int64_t rows = 0;
  // Done mini-batches whose committed rows are missing or cut short (a
  // results file lost in a crash): nothing was written; run them again.
  std::vector<int64_t> missing;
};

// Where the output goes. With a datastore root, the folder is opened beneath
// it (storage/beneath.h): a folder swapped for a link that leads out of the
// datastore since the job was invoked refuses the output instead of writing
// through it. Without one (jobs of older versions), dest's folder is used.
struct OutputPlace {
  std::filesystem::path dest;        // the output file
  std::filesystem::path root;        // the datastore's root, or empty
  std::string rel_dir;               // the output folder, relative to root ("" = the root)
  // Parquet or JSON Lines: the rows are assembled as CSV into a second
  // temporary file (AssemblyTempName + ".rows"), converted into the
  // temporary file (output_convert.h), synced, and only then linked.
  OutputFormat format = OutputFormat::kCsv;
};

// header: the output's CSV header line without its line end (nullopt: take
// the first done mini-batch's, as jobs of older versions recorded it).
Result<Assembled> AssembleOutput(const JobDir& dir, const std::string& job, store::JobStore& store,
                                 const OutputPlace& place, const std::optional<std::string>& header);

// The name of the temporary file AssembleOutput links from, in the output
// folder; removed once the job's Completed status is recorded.
std::string AssemblyTempName(const std::filesystem::path& dest, const std::string& job);
Status RemoveAssemblyTemp(const OutputPlace& place, const std::string& job);

}  // namespace lote::jobs
