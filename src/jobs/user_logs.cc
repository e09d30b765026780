// JobManagerImpl: what the scoring scripts printed, for `lote job stream
// --user-logs`: the files under the job's logs/user/stdout/ (one per worker
// process and stream, docs/jobs.md "Logs"), listed with their sizes, and
// read from an offset. Read through storage::Beneath, so a link planted in
// the logs folder is never followed out of it.
#include <unistd.h>

#include <algorithm>

#include "jobs/job_manager_impl.h"
#include "jobs/node_logs.h"
#include "storage/beneath.h"

namespace lote::jobs {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kMaxUserLogChunk = 1 << 20;
constexpr size_t kMaxUserLogFiles = 4096;
constexpr std::string_view kUserStdout = "user/stdout";

}  // namespace

Result<json> JobManagerImpl::ListUserLogs(const std::string& name) {
  LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(name));
  json files = json::array();
  const fs::path root = DirOf(name).logs() / kUserStdout;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code st;
    if (!it->is_regular_file(st) || it->is_symlink(st)) continue;
    if (files.size() >= kMaxUserLogFiles) break;
    files.push_back({{"path", std::string(kUserStdout) + "/" + fs::relative(it->path(), root).generic_string()},
                     {"size", it->file_size(st)}});
  }
  std::sort(files.begin(), files.end(), [](const json& a, const json& b) { return a["path"] < b["path"]; });
  return json{{"files", std::move(files)},
              {"status", std::string(store::JobStatusName(rec.state.status))},
              {"ended", store::IsTerminal(rec.state.status)}};
}

Result<json> JobManagerImpl::ReadUserLog(const std::string& name, const std::string& rel, int64_t offset) {
  LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(name));
  LOTE_TRY(CheckNodeLogPath(rel));
  if (!rel.starts_with(std::string(kUserStdout) + "/")) {
    return InvalidArgument("user log path '" + rel + "' must be under " + std::string(kUserStdout) + "/", "path");
  }
  LOTE_ASSIGN_OR_RETURN(auto logs, storage::Beneath::Open(DirOf(name).logs(), "job '" + name + "' logs"));
  LOTE_ASSIGN_OR_RETURN(storage::OpenedFile file, logs.OpenRead(rel));
  offset = std::clamp<int64_t>(offset, 0, static_cast<int64_t>(file.size));
  std::string text(static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(file.size) - offset, kMaxUserLogChunk)),
                   '\0');
  ssize_t n = text.empty() ? 0 : ::pread(file.fd.get(), text.data(), text.size(), offset);
  text.resize(n > 0 ? static_cast<size_t>(n) : 0);
  // Whole lines while the job runs (a line being printed is sent once it
  // ends), unless one line alone fills the chunk.
  if (!store::IsTerminal(rec.state.status) && static_cast<int64_t>(text.size()) < kMaxUserLogChunk) {
    size_t nl = text.rfind('\n');
    text.resize(nl == std::string::npos ? 0 : nl + 1);
  }
  return json{{"text", text}, {"next_offset", offset + static_cast<int64_t>(text.size())}};
}

}  // namespace lote::jobs
