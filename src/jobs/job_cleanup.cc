#include "jobs/job_cleanup.h"

#include "jobs/finalizer.h"

#include <filesystem>
#include <system_error>

namespace lote::jobs {

namespace fs = std::filesystem;

namespace {

// Sizes what is about to go (for the log), then removes it.
Status RemoveTree(const fs::path& dir, Reclaimed& out) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) return {};
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code sz;
    if (it->is_regular_file(sz)) {
      out.bytes += it->file_size(sz);
      ++out.files;
    }
  }
  ec.clear();
  fs::remove_all(dir, ec);
  if (ec) return IoError("cannot remove '" + dir.string() + "': " + ec.message());
  return {};
}

}  // namespace

Result<Reclaimed> ReclaimJobFiles(const JobDir& dir, bool keep_results) {
  Reclaimed out;
  Status first;
  for (const fs::path& p : {dir.results(), dir.staging(), dir.input()}) {
    if (keep_results && p == dir.results()) continue;
    Status st = RemoveTree(p, out);
    if (!st && first) first = st;
  }
  if (!first) return first.error();
  return out;
}

bool RowsAreSaved(const store::JobRecord& rec, const JobSpec& spec) {
  if (spec.settings.summary_only || rec.counters.tasks_done == 0 || rec.state.output_rows >= 0) return true;
  std::error_code ec;
  const fs::path partial = fs::path(spec.output.local_dir) / PartialOutputName(spec.output.file_name);
  return fs::is_regular_file(fs::symlink_status(partial, ec));
}

std::string UploadFolderOf(const nlohmann::json& doc) {
  if (!doc.is_object()) return "";
  auto in = doc.find("input");
  if (in == doc.end() || !in->is_object()) return "";
  if (in->value("kind", std::string()) != "path" || in->value("datastore", std::string()) != kUploadDatastore) {
    return "";
  }
  const std::string rel = in->value("rel", std::string());
  const std::string prefix = kJobUploadPrefix;
  constexpr size_t kHex = 16;
  if (!rel.starts_with(prefix) || rel.size() < prefix.size() + kHex) return "";
  const std::string hex = rel.substr(prefix.size(), kHex);
  if (hex.find_first_not_of("0123456789abcdef") != std::string::npos) return "";
  if (rel.size() > prefix.size() + kHex && rel[prefix.size() + kHex] != '/') return "";
  return prefix + hex;
}

bool HasReclaimableFiles(const JobDir& dir) {
  std::error_code ec;
  for (const fs::path& p : {dir.results(), dir.staging(), dir.input()}) {
    if (fs::exists(fs::symlink_status(p, ec))) return true;
  }
  return false;
}

}  // namespace lote::jobs
