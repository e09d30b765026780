// Cutting a large Parquet file into mini-batches of whole row groups, for a
// mini_batch_size with a unit ("64MB"), so that one file is scored by many
// workers at once.
//
// The planner reads the file's footer (parquet/parquet_file.h) and groups
// consecutive row groups while their column chunks (compressed, as stored)
// add up to less than the target; a row group larger than the target is a
// mini-batch of its own. An item of such a mini-batch is
//   {"path", "row_group": <first>, "row_groups": <count>}
// and only the native worker's no-code scorer reads it (native/tabular_scorer.h):
// its output rows carry the row's number in the whole file, so the job's
// output is the file's rows once each, in order, whatever the cut.
//
// A file whose footer cannot be read is not split: it stays one whole-file
// item and its worker fails it with the reader's error naming the file (the
// job's other files are scored as usual).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "parquet/parquet_file.h"

namespace lote::jobs {

inline constexpr char kItemRowGroupKey[] = "row_group";    // the first row group
inline constexpr char kItemRowGroupsKey[] = "row_groups";  // how many

inline constexpr char kItemFileSizeKey[] = "file_size";
inline constexpr char kItemSpansKey[] = "spans";

struct RowGroupRange {
  size_t first = 0;
  size_t count = 0;
  // The bytes its row groups' column chunks lie in (RowGroupInfo::data_*).
  uint64_t data_begin = 0;
  uint64_t data_end = 0;
  bool operator==(const RowGroupRange&) const = default;
};

struct RowGroupPlan {
  std::vector<RowGroupRange> ranges;
  uint64_t file_size = 0;
  uint64_t footer_begin = 0;
};

// True for a name ending in ".parquet", whatever its case.
bool IsParquetName(std::string_view file_name);

// True when the job's runtime reads row-group items: the native worker's
// no-code scorer and the Python runner's no-code sklearn driver (not a
// plugin, not a score.py, which take whole files).
bool RuntimeReadsRowGroups(const nlohmann::json& job);

// Pure: consecutive row groups, each range's compressed bytes below target
// unless it is one row group. Tiles [0, groups.size()); target 0 is taken as 1.
std::vector<RowGroupRange> CutRowGroups(std::span<const parquet::RowGroupInfo> groups,
                                        uint64_t target);

// Opens the file's footer and cuts it. The reader's error (naming the file)
// when it cannot be read.
Result<RowGroupPlan> PlanRowGroups(const std::string& path, uint64_t target);

// The item for one range of plan (path as common/fs_name.h's PathItem).
nlohmann::json RowGroupItem(const std::string& path, const RowGroupRange& range,
                            const RowGroupPlan& plan);

}  // namespace lote::jobs
