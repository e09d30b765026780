// A batch of mini-batch results as an agent posts it to
// POST /api/v1/jobs/{job}/tasks/results (docs/agent-api.md): one line of JSON
// metadata, then the output rows of each result back to back, in the order
// the metadata lists them:
//
//   {"worker": "node0/process001", "results": [{"task": 17, "lease": "9f0c…",
//     "succeeded": 2, "failed": 0, "started_ms": …, "elapsed_ms": …,
//     "header": "file,row,prediction" | null, "bytes": 42,
//     "item_errors": [{"item": "a.csv", "error": "…", "row": "17", "column": "fare"}]}, …]}\n
//   <42 bytes of rows of task 17><rows of the next result>…
//
// ReadResultBatch reads and checks the metadata of such a file (the rows stay
// where they are: each result's rows are `bytes` bytes at `offset`). Errors are
// InvalidArgument and name the result and field ("results[3].bytes: …",
// "results[0].item_errors[2].row: …"). item_errors (row-level failures of a
// result that otherwise succeeded) is optional: agents older than it omit it.
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

// Bounds on a result's item errors. An agent reports at most
// runtime::kMaxReportedItemErrors with texts cut by runtime::TruncateText
// (which may add a short note): these are looser, and refuse only what no
// agent sends.
inline constexpr size_t kMaxResultItemErrors = 100;
inline constexpr size_t kMaxItemErrorTextBytes = 17u << 10;  // "item" and "error"
inline constexpr size_t kMaxItemErrorRowBytes = 128;  // 64 and TruncateText's note
inline constexpr size_t kMaxItemErrorColumnBytes = 1024 + 64;

// One row-level (or item-level) failure inside a result.
struct ItemError {
  std::string item;
  std::string error;
  std::optional<std::string> row;     // "17", or "12345+2" for a byte range's row
  std::optional<std::string> column;  // the column at fault, when known
};

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
  std::vector<ItemError> item_errors;
};

struct ResultBatch {
  std::string worker;
  std::vector<BatchedResult> results;
};

// The rows' byte counts must add up to the rest of the file exactly; no sum of
// them may wrap around, so every result's rows lie inside the file.
Result<ResultBatch> ReadResultBatch(const std::filesystem::path& file);

}  // namespace lote::jobs
