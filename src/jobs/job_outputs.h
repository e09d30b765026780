// A job's output files as users see them: the assembled predictions file and
// whatever the scoring script wrote itself under AZUREML_BI_OUTPUT_PATH (the
// job's output folder), and which interpreter ran the job's workers.
//
// Names are paths relative to the output folder ('/'-separated). Only regular
// files count: a link, a socket or a folder a script left there is not an
// output, and nothing is ever read through a link that leads out of the folder.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "jobs/job_spec.h"

namespace lote::jobs {

struct OutputFile {
  std::string name;  // relative to the output folder
  uint64_t size = 0;
};

// The most files one listing names; a job that wrote more says so (truncated).
inline constexpr size_t kMaxListedOutputFiles = 10000;

struct OutputListing {
  std::vector<OutputFile> files;  // sorted by name
  bool truncated = false;
};

// Every regular file under the job's output folder, except the assembled
// output file while it is not written yet (`assembled` false) and the
// assembly's temporary file. A missing folder lists nothing.
OutputListing ListOutputFiles(const JobSpec& spec, bool assembled);

// The name under which the files API serves an output file: the name itself,
// or "outputs/<name>" when the name would read as one of the API's own
// prefixes ("logs/", "outputs/").
std::string OutputFileApiPath(const std::string& name);

// The real path of output file `rel` (already without any "outputs/"
// prefix), resolved beneath the output folder. NotFound when it is missing
// or not a regular file.
Result<std::filesystem::path> ResolveOutputFile(const JobSpec& spec, const std::string& rel);

// For the job document: [{name, size}] of the output files, and `truncated`.
nlohmann::json OutputFilesJson(const OutputListing& listing);

// The interpreters the job's Python workers reported (one per node that ran
// one: {node, version, path}), read from <logs>/sys/node/*/interpreter.json.
nlohmann::json InterpretersRan(const std::filesystem::path& logs_dir);

}  // namespace lote::jobs
