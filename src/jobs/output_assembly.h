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

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "jobs/job_files.h"
#include "jobs/output_convert.h"
#include "storage/unique_fd.h"
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

// The rows assembled so far into the job's temporary rows file (the
// temporary file, or its ".rows" file for a converted format): the header,
// then the rows of every done mini-batch with an id up to `after`, in order.
// An assembly started while the job runs (jobs/early_assembly.h) hands its
// cursor to the final one, which goes on from there.
struct AssemblyCursor {
  storage::UniqueFd dir;  // the output folder
  storage::UniqueFd fd;   // the rows file, open for writing
  std::string name;       // the rows file's name in dir
  int64_t after = 0;      // mini-batches with an id up to this are passed
  int64_t rows = 0;
  int64_t bytes = 0;      // what fd holds
  int64_t flushed = 0;    // writeback to disk started up to here (sync_file_range)
  std::optional<std::string> header;  // nullopt: the first done mini-batch's (older jobs)
  bool header_passed = false;         // the header is written (or there is none)
  bool has_header = false;            // the rows file starts with a header line
};

// Opens the output folder and the job's rows file afresh (emptied).
Result<AssemblyCursor> BeginAssembly(const OutputPlace& place, const std::string& job,
                                     const std::optional<std::string>& header);

// While the job runs: appends the rows of the done mini-batches that follow
// cursor.after, in id order, up to the first one that is not settled (pending
// or leased); failed, canceled and not-run ones are passed. Between
// mini-batches it stops early once *stop is set. Starts the writeback of what
// it wrote (the final fsync then has little left). False: a done mini-batch's
// rows are missing or cut short (the cursor is then of no further use).
Result<bool> AdvanceAssembly(AssemblyCursor& cursor, const JobDir& dir, store::JobStore& store,
                             const std::string& job, const std::atomic<bool>* stop);

// header: the output's CSV header line without its line end (nullopt: take
// the first done mini-batch's, as jobs of older versions recorded it).
// early: the cursor of an assembly begun while the job ran; it is taken only
// if its rows file is still what the output folder holds under its name and
// holds exactly what the cursor says, else the assembly starts over.
Result<Assembled> AssembleOutput(const JobDir& dir, const std::string& job, store::JobStore& store,
                                 const OutputPlace& place, const std::optional<std::string>& header,
                                 std::optional<AssemblyCursor> early = std::nullopt);

// The name of the temporary file AssembleOutput links from, in the output
// folder; removed once the job's Completed status is recorded.
std::string AssemblyTempName(const std::filesystem::path& dest, const std::string& job);
Status RemoveAssemblyTemp(const OutputPlace& place, const std::string& job);

}  // namespace lote::jobs
