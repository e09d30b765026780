// Byte-range items (mini_batch_size with a unit, e.g. "64MB") for workers
// that only take whole files, such as score.py scripts: each range is written
// to a temporary file (the CSV header first, then its lines) and the item's
// path points there. The native worker reads ranges directly.
#pragma once

#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::agent {

// Returns items where every {path, offset, length[, header]} became
// {path: <chunk file>}; chunk files are created in dir and listed in created.
Result<nlohmann::json> MaterializeRanges(const nlohmann::json& items, const std::filesystem::path& dir,
                                         std::vector<std::filesystem::path>* created);

}  // namespace lote::agent
