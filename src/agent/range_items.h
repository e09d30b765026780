// Byte-range items (mini_batch_size with a unit, e.g. "64MB") for workers
// that only take whole files — score.py scripts: each range becomes a
// temporary "chunk" file that reads like a small file of the same kind: the
// range's CSV header record (no byte order mark: the planner left it out)
// and a line end, then the range's bytes, which end where a record ends
// (jobs/byte_ranges.h). The chunk of "trips.csv" bytes 1000+500 is
// "<dir>/trips@1000.csv": the script sees the original name and extension.
// The native worker, the Python runner's drivers and plugins read ranges
// directly and never get chunks.
//
// A Parquet row-group item (jobs/planner_parquet.h) is refused the same way.
// A range is never handed on raw: when one cannot be prepared the whole
// mini-batch attempt fails with the reason (the agent reports it as
// RUN_INPUT_ERROR), because a whole-file worker given the original path would
// score the whole file once per range.
#pragma once

#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::agent {

// Returns the items with every range item ({path, offset, length[, header]},
// names as common/fs_name.h byte fields) replaced by {path: <chunk file>};
// whole-file items are kept as they are. Chunk files are created in dir
// (created if needed) and listed in *created, also when an error comes back,
// so that the caller removes them. Errors (IoError or InvalidArgument) name
// the file, readably, and the byte range.
Result<nlohmann::json> MaterializeRanges(const nlohmann::json& items, const std::filesystem::path& dir,
                                         std::vector<std::filesystem::path>* created);

}  // namespace lote::agent
