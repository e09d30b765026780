#include "jobs/planner.h"

#include <algorithm>
#include <fstream>

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
                                                const storage::UrlPolicy& url_policy) {
  const json& in = job["input"];
  std::vector<std::string> files;
  std::error_code ec;
  if (in["kind"] == "url") {
    const storage::UrlFetchOptions fetch{.policy = url_policy, .limits = storage::UrlLimits::ForDownload()};
    LOTE_ASSIGN_OR_RETURN(auto urls, storage::ListUrlFolder(in["url"].get<std::string>(), fetch));
    fs::create_directories(input_dir, ec);
    for (const std::string& url : urls) {
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
  LOTE_ASSIGN_OR_RETURN(auto entries, ds.List(rel));
  // Entries come sorted by name; a link inside is planned as its target's real path.
  for (const storage::DirEntry& e : entries) {
    // A link that leads out (or loops) is never read: the job fails, naming
    // it. A dangling link is skipped, as any entry that is not a file.
    if (e.error && e.error->code() == ErrorCode::kNotFound) continue;
    if (e.error) return e.error->WithContext("input folder '" + rel + "'");
    if (e.type == storage::EntryType::kFile) files.push_back(e.resolved);
  }
  if (files.empty()) return InvalidArgument("input folder '" + rel + "' in " + what + " holds no files");
  return files;
}

bool IsSplittable(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext == ".csv" || ext == ".jsonl" || ext == ".txt" || ext == ".tsv" || ext == ".ndjson";
}

// Reads the first line (without its '\n'); sets *end to the offset after it.
std::string FirstLine(const fs::path& p, uint64_t* end) {
  std::ifstream in(p, std::ios::binary);
  std::string line;
  std::getline(in, line);
  *end = in.eof() ? line.size() : line.size() + 1;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

Result<std::vector<std::pair<uint64_t, uint64_t>>> LineAlignedRanges(const fs::path& path,
                                                                     uint64_t first_offset,
                                                                     uint64_t target) {
  std::error_code ec;
  uint64_t size = fs::file_size(path, ec);
  if (ec) return IoError("cannot read '" + path.string() + "': " + ec.message());
  std::ifstream in(path, std::ios::binary);
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  uint64_t start = first_offset;
  std::vector<char> buf(1 << 16);
  while (start < size) {
    uint64_t end = start + target;
    if (end >= size) {
      ranges.emplace_back(start, size - start);
      break;
    }
    // Move end forward to just after the next '\n'.
    in.clear();
    in.seekg(static_cast<std::streamoff>(end - 1));
    uint64_t pos = end - 1;
    bool found = false;
    while (!found && in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      auto got = static_cast<uint64_t>(in.gcount());
      for (uint64_t i = 0; i < got; ++i) {
        if (buf[i] == '\n') {
          end = pos + i + 1;
          found = true;
          break;
        }
      }
      pos += got;
      if (got == 0) break;
    }
    if (!found) end = size;
    ranges.emplace_back(start, end - start);
    start = end;
  }
  return ranges;
}

Result<PlanResult> PlanJob(const json& job, const fs::path& input_dir, store::JobStore& store,
                           const storage::UrlPolicy& url_policy) {
  LOTE_ASSIGN_OR_RETURN(std::vector<std::string> files, ListInputFiles(job, input_dir, url_policy));
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
  std::error_code ec;
  if (mbs.is_number_integer()) {
    const size_t per = static_cast<size_t>(mbs.get<int64_t>());
    json items = json::array();
    for (const std::string& f : files) {
      plan.bytes += fs::file_size(f, ec);
      items.push_back({{"path", f}});
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
  json group = json::array();
  uint64_t group_bytes = 0;
  for (const std::string& name : files) {
    const fs::path f = name;
    uint64_t size = fs::file_size(f, ec);
    plan.bytes += size;
    if (size > target && IsSplittable(f)) {
      if (!group.empty()) {
        pending.push_back(std::move(group));
        group = json::array();
        group_bytes = 0;
      }
      uint64_t body = 0;
      std::string header;
      if (f.extension() == ".csv" || f.extension() == ".tsv") header = FirstLine(f, &body);
      LOTE_ASSIGN_OR_RETURN(auto ranges, LineAlignedRanges(f, body, target));
      for (auto [off, len] : ranges) {
        json item = {{"path", f.string()}, {"offset", off}, {"length", len}};
        if (!header.empty()) item["header"] = header;
        pending.push_back(json::array({item}));
        LOTE_TRY(flush(false));
      }
      continue;
    }
    if (!group.empty() && group_bytes + size > target) {
      pending.push_back(std::move(group));
      group = json::array();
      group_bytes = 0;
      LOTE_TRY(flush(false));
    }
    group.push_back({{"path", f.string()}});
    group_bytes += size;
  }
  if (!group.empty()) pending.push_back(std::move(group));
  LOTE_TRY(flush(true));
  return plan;
}

}  // namespace lote::jobs
