// A batch of mini-batch results as an agent posts it to
// POST /api/v1/jobs/{job}/tasks/results (docs/agent-api.md): one line of JSON
// metadata, then the output rows of each result back to back, in the order
// the metadata lists them:
//
//   {"worker": "node0/process001", "results": [{"task": 17, "lease": "9f0c…",
//     "succeeded": 2, "failed": 0, "started_ms": …, "elapsed_ms": …,
//     "header": "file,row,prediction" | null, "bytes": 42}, …]}\n
//   <42 bytes of rows of task 17><rows of the next result>…
//
// ReadResultBatch reads and checks the metadata of such a file (the rows stay
// where they are: each result's rows are `bytes` bytes at `offset`). Errors are
// InvalidArgument and name the result and field ("results[3].bytes: …").
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace lote::jobs {

// The metadata line may not be longer than this.
inline constexpr size_t kMaxResultBatchMetaBytes = 16u << 20;

struct BatchedResult {
  int64_t task = 0;
  std::string lease;
  int64_t succeeded = 0;
  int64_t failed = 0;
  int64_t started_ms = 0;
  int64_t elapsed_ms = 0;
  std::optional<std::string> header;  // the rows' CSV header line, when they are CSV
  uint64_t offset = 0;                // of the rows in the file
  uint64_t bytes = 0;
};

struct ResultBatch {
  std::string worker;
  std::vector<BatchedResult> results;
};

// The rows' byte counts must add up to the rest of the file exactly; no sum of
// them may wrap around, so every result's rows lie inside the file.
Result<ResultBatch> ReadResultBatch(const std::filesystem::path& file);

}  // namespace lote::jobs
