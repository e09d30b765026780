// The agent's side of results by file (docs/agent-api.md, "Results by
// file"): an agent on the server's host writes a batch of results
// (jobs/result_batch.h: the metadata line, then each result's rows) into the
// job's staging folder itself and posts only its name, so the rows never
// cross a socket nor the server's HTTP parser.
//
// WriteResultsFile creates <dir>/agent-<32 hex> (common/results_file_name.h)
// with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, and writes `pieces` back to back
// with writev. On any failure (no such folder, no access, a full disk) the
// partial file is removed and the error (IoError naming the file and the
// reason) returned: the caller then sends the rows in the body instead.
// Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lote::agent {

struct WrittenResults {
  std::filesystem::path path;
  std::string name;  // what the agent posts ("agent-<hex>")
  uint64_t bytes = 0;
};

Result<WrittenResults> WriteResultsFile(const std::filesystem::path& dir, const std::vector<std::string_view>& pieces);

}  // namespace lote::agent
