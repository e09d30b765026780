// A job's immutable spec as typed values: the JSON document BuildJob writes at
// invoke (and the store keeps) is parsed once, at the edge, so the scheduler
// and the agent API never read settings by string key from a document (where
// a type mistake becomes an exception on a server thread).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "compute/agent_launcher.h"
#include "jobs/agent_access.h"
#include "jobs/output_convert.h"

namespace lote::jobs {

struct JobInput {
  enum class Kind { kPath, kUrl };
  Kind kind = Kind::kPath;
  std::string path;         // kPath: a file or folder on this host (inside a datastore)
  std::string url;          // kUrl: a file, or a folder listing when it ends in '/'
  std::string description;  // as the user named it, for messages
};

struct JobOutput {
  std::string datastore, path, file_name, uri;
  std::string local_path;  // the output file on this host
  std::string local_dir;   // its folder (scripts may write their own files there)
  std::string root;        // the datastore's root ("" for jobs of older versions)
  std::string rel_dir;     // the output folder relative to root
};

struct JobSettings {
  int64_t mini_batch_files = 0;  // files per mini-batch, or 0 when sized in bytes
  uint64_t mini_batch_bytes = 0;  // a byte size ("64MB"), or 0
  int instance_count = 1;
  int max_concurrency_per_instance = 1;
  int max_retries = 3;
  int timeout_s = 30;
  int64_t error_threshold = -1;  // -1: ignore failures
  std::string logging_level = "info";
  bool summary_only = false;     // output_action: summary_only (else append_row)
  OutputFormat output_format = OutputFormat::kCsv;  // csv for jobs recorded before it existed
  std::string compute;
};

struct JobSpec {
  std::string name, endpoint, deployment;
  JobInput input;
  JobOutput output;
  JobSettings settings;
  compute::ComputeTarget compute;  // as it was when the job was created
  AgentAccess access;  // direct for jobs recorded before it was chosen
  nlohmann::json doc;  // the whole document (runtime, environment variables, notes…)
};

// Internal when the document lacks a field or has one of the wrong type (it
// is ours: written by BuildJob), naming the field.
Result<JobSpec> ParseJobSpec(const nlohmann::json& doc);

}  // namespace lote::jobs
