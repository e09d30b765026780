// `lote job stream --user-logs`: what the job's scoring scripts print, as it
// grows, one line at a time prefixed by the worker that printed it
// ("[node0/process001] loaded the model", "[node0/process001 stderr] …").
// Reads GET /api/v1/jobs/{job}/user-logs (the files and their sizes) and
// …/user-logs/<path>?offset=N (whole lines while the job runs).
#pragma once

#include <map>
#include <string>

#include "cli/api_client.h"

namespace lote::cli {

class UserLogTail {
 public:
  // What grew since the last call, as prefixed lines (each ending in '\n').
  Result<std::string> Poll(ApiClient& client, const std::string& job);

  // "user/stdout/node0/process001.stderr.txt" -> "[node0/process001 stderr] ".
  static std::string PrefixOf(const std::string& path);

 private:
  std::map<std::string, int64_t> offsets_;  // path -> bytes already shown
};

}  // namespace lote::cli
