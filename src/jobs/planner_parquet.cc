#include "jobs/planner_parquet.h"

#include <algorithm>

#include "common/fs_name.h"
#include "common/util.h"

namespace lote::jobs {

bool IsParquetName(std::string_view file_name) {
  const size_t slash = file_name.rfind('/');
  if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
  return file_name.size() > 8 && ToLower(std::string(file_name)).ends_with(".parquet");
}

bool RuntimeReadsRowGroups(const nlohmann::json& job) {
  auto rt = job.find("runtime");
  if (rt == job.end() || !rt->is_object()) return false;
  auto opts = rt->find("options");
  if (opts == rt->end() || !opts->is_object()) return false;
  if (rt->value("kind", "") == "python") {
    // The Python runner's no-code sklearn driver reads row groups through
    // `lote parquet decode` (python/lote_drivers/columnar.py).
    const auto driver = opts->find("driver");
    return driver != opts->end() && driver->is_string() && driver->get<std::string>() == "mlflow_sklearn";
  }
  if (rt->value("kind", "") != "native") return false;
  const auto kind = opts->find("kind");
  if (kind == opts->end() || !kind->is_string()) return false;
  const std::string k = kind->get<std::string>();
  return k == "mlflow_xgboost" || k == "xgboost" || k == "torchscript";
}

std::vector<RowGroupRange> CutRowGroups(std::span<const parquet::RowGroupInfo> groups,
                                        uint64_t target) {
  if (target == 0) target = 1;
  std::vector<RowGroupRange> out;
  RowGroupRange cur;
  uint64_t bytes = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto size = static_cast<uint64_t>(std::max<int64_t>(0, groups[g].compressed_bytes));
    if (cur.count > 0 && bytes + size > target) {
      out.push_back(cur);
      cur = {.first = g, .count = 0};
      bytes = 0;
    }
    if (cur.count == 0) cur.first = g;
    if (groups[g].data_end > groups[g].data_begin) {  // a row group with no columns has no bytes
      const bool first_bytes = cur.data_end == 0;
      if (first_bytes || groups[g].data_begin < cur.data_begin) cur.data_begin = groups[g].data_begin;
      if (first_bytes || groups[g].data_end > cur.data_end) cur.data_end = groups[g].data_end;
    }
    ++cur.count;
    bytes += size;
  }
  if (cur.count > 0) out.push_back(cur);
  return out;
}

Result<RowGroupPlan> PlanRowGroups(const std::string& path, uint64_t target) {
  LOTE_ASSIGN_OR_RETURN(auto pq, parquet::ParquetFile::Open(path));
  return RowGroupPlan{.ranges = CutRowGroups(pq->row_groups(), target),
                      .file_size = pq->size(),
                      .footer_begin = pq->footer_begin()};
}

nlohmann::json RowGroupItem(const std::string& path, const RowGroupRange& range,
                            const RowGroupPlan& plan) {
  nlohmann::json item = PathItem(path);
  item[kItemRowGroupKey] = range.first;
  item[kItemRowGroupsKey] = range.count;
  // The leading magic (Open checks it), the column chunks, the footer: in
  // order, adjacent ones merged.
  std::vector<std::pair<uint64_t, uint64_t>> parts = {{0, std::min<uint64_t>(4, plan.footer_begin)}};
  if (range.data_end > range.data_begin) parts.emplace_back(range.data_begin, range.data_end);
  parts.emplace_back(plan.footer_begin, plan.file_size);
  nlohmann::json spans = nlohmann::json::array();
  uint64_t begin = parts[0].first, end = parts[0].second;
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].first <= end) {
      end = std::max(end, parts[i].second);
      continue;
    }
    spans.push_back({begin, end - begin});
    begin = parts[i].first;
    end = parts[i].second;
  }
  spans.push_back({begin, end - begin});
  item[kItemFileSizeKey] = plan.file_size;
  item[kItemSpansKey] = std::move(spans);
  return item;
}

}  // namespace lote::jobs
