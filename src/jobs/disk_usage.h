// What lote's home holds (GET /api/v1/system/df, `lote system df`): bytes and
// file counts per category, and the biggest jobs. Sizes are apparent sizes
// (st_size, what `du -sb` adds up); links are never followed. A file that
// vanishes while it is being counted is skipped.
#pragma once

#include <cstdint>
#include <filesystem>

#include "common/status.h"

namespace lote::jobs {

struct TreeUsage {
  uint64_t bytes = 0;
  int64_t files = 0;
  TreeUsage& operator+=(const TreeUsage& o) {
    bytes += o.bytes;
    files += o.files;
    return *this;
  }
};

// The regular files under `path` (or the file itself); zero when it does
// not exist. skip: a folder under `path` left out (empty: none).
TreeUsage UsageOf(const std::filesystem::path& path, const std::filesystem::path& skip = {});

}  // namespace lote::jobs
