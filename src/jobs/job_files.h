// Where a job keeps its files under <home>/jobs/<job>/, and the small text
// files it writes there in Azure's log layout.
#pragma once

#include <filesystem>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "store/job_store.h"

namespace lote::jobs {

struct JobDir {
  std::filesystem::path root;
  std::filesystem::path logs() const { return root / "logs"; }
  std::filesystem::path results() const { return root / "results"; }
  std::filesystem::path staging() const { return root / "staging"; }
  std::filesystem::path input() const { return root / "input"; }
  std::filesystem::path events() const { return logs() / "lote_job.txt"; }
  std::filesystem::path part(int64_t task) const;    // committed rows of a mini-batch
  std::filesystem::path header(int64_t task) const;  // its CSV header, when any
  Status Create() const;
};

// Appends "<time> <line>\n" to the job's event log (what `job stream` shows).
void AppendEvent(const JobDir& dir, const std::string& line);

// logs/job_progress_overview.txt from the job document and its counters.
void WriteProgressOverview(const JobDir& dir, const nlohmann::json& job_view);

// logs/sys/job_report/processed_mini-batches.csv and logs/job_result.txt.
Status WriteFinalReports(const JobDir& dir, const nlohmann::json& job_view, store::JobStore& store);

// Concatenates the committed rows of every mini-batch in input order into
// `dest` (through a temporary file and a no-replace link, so a reader never
// sees half a file and nothing that appeared there meanwhile is overwritten).
// Returns the number of rows written.
Result<int64_t> AssembleOutput(const JobDir& dir, const std::string& job, store::JobStore& store,
                               const std::filesystem::path& dest);

}  // namespace lote::jobs
