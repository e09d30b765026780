#include "jobs/planner.h"

#include <algorithm>
#include <map>

#include "common/fs_name.h"
#include "jobs/byte_ranges.h"
#include "jobs/planner_parquet.h"
#include "model/specs.h"
#include "storage/beneath.h"
#include "storage/http_fetch.h"

namespace lote::jobs {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr size_t kTaskChunk = 1000;  // tasks per store transaction

// Paths as plain strings: an fs::path also keeps a list of its components,
// several times the memory for inputs of hundreds of thousands of files.
Result<std::vector<std::string>> ListInputFiles(const json& job, const fs::path& input_dir,
                                                const storage::UrlPolicy& url_policy,
                                                const std::function<bool()>& canceled) {
  const json& in = job["input"];
  std::vector<std::string> files;
  std::error_code ec;
  if (in["kind"] == "url") {
    const storage::UrlFetchOptions fetch{
        .policy = url_policy, .limits = storage::UrlLimits::ForDownload(), .canceled = canceled};
    LOTE_ASSIGN_OR_RETURN(auto urls, storage::ListUrlFolder(in["url"].get<std::string>(), fetch));
    fs::create_directories(input_dir, ec);
    for (const std::string& url : urls) {
      if (canceled && canceled()) return FailedPrecondition("downloading the input was canceled");
      std::string name = storage::PercentDecode(url.substr(url.rfind('/') + 1));
      if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
        name = "input-" + std::to_string(files.size());
      }
      fs::path dest = input_dir / name;
      LOTE_TRY(storage::DownloadUrl(url, dest, fetch));
      files.push_back(dest.string());
    }
    std::sort(files.begin(), files.end());
    return files;
  }
  // A datastore path, checked again now: the datastore may have changed
  // since the invoke (JobBuilder recorded the root and the path beneath it).
  if (!in.contains("root") || !in.contains("rel")) {
    // A job recorded before inputs carried their datastore root.
    fs::path root = in["path"].get<std::string>();
    if (fs::is_regular_file(root, ec)) return std::vector<std::string>{root.string()};
    for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec)) files.push_back(it->path().string());
    }
    if (ec) return IoError("cannot list input '" + root.string() + "': " + ec.message());
    std::sort(files.begin(), files.end());
    if (files.empty()) return InvalidArgument("input folder '" + root.string() + "' holds no files");
    return files;
  }
  const std::string rel = in["rel"].get<std::string>();
  const std::string what = in.value("datastore", std::string()).empty()
                               ? "the input's datastore"
                               : "datastore '" + in["datastore"].get<std::string>() + "'";
  LOTE_ASSIGN_OR_RETURN(storage::Beneath ds, storage::Beneath::Open(in["root"].get<std::string>(), what));
  LOTE_ASSIGN_OR_RETURN(storage::PathInfo info, ds.Stat(rel));
  if (info.type == storage::EntryType::kFile) return std::vector<std::string>{info.resolved.string()};
  if (info.type != storage::EntryType::kDir) {
    return InvalidArgument("input '" + rel + "' in " + what + " is neither a file nor a folder");
  }
  // Only names are kept while listing (a folder of millions of files), and
  // the real path of the few links; files are planned in name order, a link
  // as its target's real path.
  std::vector<std::string> names;
  std::map<std::string, std::string> links;
  std::optional<Error> refused;
  LOTE_TRY(ds.ForEach(rel, [&](storage::DirEntry&& e) {
    // A link that leads out (or loops) is never read: the job fails, naming
    // it. A dangling link is skipped, as any entry that is not a file.
    if (e.error && e.error->code() == ErrorCode::kNotFound) return true;
    if (e.error) {
      refused = e.error->WithContext("input folder '" + rel + "'");
      return false;
    }
    if (e.type != storage::EntryType::kFile) return true;
    if (e.is_link) links[e.name] = std::move(e.resolved);
    names.push_back(std::move(e.name));
    return true;
  }));
  if (refused) return *refused;
  if (names.empty()) return InvalidArgument("input folder '" + rel + "' in " + what + " holds no files");
  std::sort(names.begin(), names.end());
  const std::string prefix = (info.resolved / "").string();
  files.reserve(names.size());
  for (std::string& n : names) {
    auto link = links.find(n);
    files.push_back(link != links.end() ? std::move(link->second) : prefix + n);
    std::string().swap(n);
  }
  return files;
}

// The file's size, or 0 when it cannot be read: such a file stays in the
// plan as a whole-file item, and its worker fails that item with the reason.
uint64_t SizeOrZero(const std::string& f) {
  std::error_code ec;
  uint64_t size = fs::file_size(f, ec);
  return ec ? 0 : size;
}

}  // namespace

Result<PlanResult> PlanJob(const json& job, const fs::path& input_dir, store::JobStore& store,
                           const storage::UrlPolicy& url_policy, const std::function<bool()>& canceled) {
  LOTE_ASSIGN_OR_RETURN(std::vector<std::string> files, ListInputFiles(job, input_dir, url_policy, canceled));
  if (canceled && canceled()) return FailedPrecondition("planning was canceled");
  const std::string name = job["name"];
  const json& mbs = job["settings"]["mini_batch_size"];
  PlanResult plan;
  plan.files = static_cast<int64_t>(files.size());
  std::vector<json> pending;
  auto flush = [&](bool force) -> Status {
    if (pending.empty() || (!force && pending.size() < kTaskChunk)) return {};
    plan.tasks += static_cast<int64_t>(pending.size());
    Status st = store.AddTasks(name, pending);
    pending.clear();
    return st;
  };
  if (mbs.is_number_integer()) {
    const size_t per = static_cast<size_t>(mbs.get<int64_t>());
    json items = json::array();
    for (const std::string& f : files) {
      plan.bytes += SizeOrZero(f);
      items.push_back(PathItem(f));
      if (items.size() == per) {
        pending.push_back(std::move(items));
        items = json::array();
        LOTE_TRY(flush(false));
      }
    }
    if (!items.empty()) pending.push_back(std::move(items));
    LOTE_TRY(flush(true));
    return plan;
  }
  // A byte size: small files are grouped up to it, large text files are split.
  LOTE_ASSIGN_OR_RETURN(uint64_t target, model::ParseByteSize(mbs.get<std::string>()));
  // Parquet files are cut into row groups only for a worker that reads them
  // (jobs/planner_parquet.h); any other takes them whole.
  const bool split_parquet = RuntimeReadsRowGroups(job);
  json group = json::array();
  uint64_t group_bytes = 0;
  auto end_group = [&]() -> Status {
    if (group.empty()) return {};
    pending.push_back(std::move(group));
    group = json::array();
    group_bytes = 0;
    return flush(false);
  };
  for (const std::string& f : files) {
    if (canceled && canceled()) return FailedPrecondition("planning was canceled");
    const uint64_t size = SizeOrZero(f);
    plan.bytes += size;
    if (size > target && split_parquet && IsParquetName(f)) {
      LOTE_TRY(end_group());
      // A footer that cannot be read leaves the file whole: its worker fails
      // it with the reader's error, and only it.
      auto cut = PlanRowGroups(f, target);
      if (!cut || cut->ranges.size() <= 1) {
        pending.push_back(json::array({PathItem(f)}));
        LOTE_TRY(flush(false));
        continue;
      }
      for (const RowGroupRange& r : cut->ranges) {
        pending.push_back(json::array({RowGroupItem(f, r, *cut)}));
        LOTE_TRY(flush(false));
      }
      continue;
    }
    const TextFormat format = TextFormatOf(f);
    if (size > target && format != TextFormat::kOther) {
      LOTE_TRY(end_group());
      // A file that cannot be scanned, or is not worth splitting, stays whole
      // (its worker reports what is wrong with it).
      auto split = PlanByteRanges(f, format, target);
      if (!split || split->ranges.empty()) {
        pending.push_back(json::array({PathItem(f)}));
        LOTE_TRY(flush(false));
        continue;
      }
      const bool has_header = format == TextFormat::kCsv || format == TextFormat::kTsv;
      for (const ByteRange& r : split->ranges) {
        json item = PathItem(f);
        item["offset"] = r.offset;
        item["length"] = r.length;
        item[kItemFirstRowKey] = r.first_row;
        item[kItemFirstLineKey] = r.first_line;
        if (has_header) SetBytesField(item, kItemHeaderKey, split->header);
        pending.push_back(json::array({std::move(item)}));
        LOTE_TRY(flush(false));
      }
      continue;
    }
    if (!group.empty() && group_bytes + size > target) LOTE_TRY(end_group());
    group.push_back(PathItem(f));
    group_bytes += size;
  }
  if (!group.empty()) pending.push_back(std::move(group));
  LOTE_TRY(flush(true));
  return plan;
}

}  // namespace lote::jobs
