#include "jobs/job_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "common/util.h"

namespace lote::jobs {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path JobDir::part(int64_t task) const {
  char name[32];
  std::snprintf(name, sizeof name, "%010lld.rows", static_cast<long long>(task));
  return results() / name;
}

fs::path JobDir::header(int64_t task) const {
  char name[32];
  std::snprintf(name, sizeof name, "%010lld.header", static_cast<long long>(task));
  return results() / name;
}

Status JobDir::Create() const {
  std::error_code ec;
  for (const fs::path& p : {logs() / "sys" / "job_report", results(), staging(), logs() / "user"}) {
    fs::create_directories(p, ec);
    if (ec) return IoError("cannot create '" + p.string() + "': " + ec.message());
  }
  return {};
}

void AppendEvent(const JobDir& dir, const std::string& line) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::ofstream out(dir.events(), std::ios::app);
  out << NowRfc3339() << " " << line << "\n";
}

void WriteProgressOverview(const JobDir& dir, const json& v) {
  const json& mb = v["progress"]["mini_batches"];
  const json& items = v["progress"]["items"];
  std::string text;
  text += "Job: " + v["name"].get<std::string>() + "\n";
  text += "Status: " + v["status"].get<std::string>() + "\n";
  text += "Endpoint: " + v["endpoint"].get<std::string>() + ", deployment: " + v["deployment"].get<std::string>() + "\n";
  text += "Mini-batches: " + mb["total"].dump() + " total, " + mb["succeeded"].dump() + " succeeded, " +
          mb["failed"].dump() + " failed, " + mb["running"].dump() + " running, " + mb["retried"].dump() +
          " retried\n";
  text += "Items: " + items["succeeded"].dump() + " succeeded, " + items["failed"].dump() + " failed\n";
  if (v["progress"].contains("items_per_s")) text += "Throughput: " + v["progress"]["items_per_s"].dump() + " items/s\n";
  if (v["progress"].contains("eta_s")) text += "ETA: " + v["progress"]["eta_s"].dump() + " s\n";
  (void)WriteFileAtomic(dir.logs() / "job_progress_overview.txt", text);
}

namespace {

}  // namespace

Status WriteFinalReports(const JobDir& dir, const json& v, store::JobStore& store) {
  std::string csv =
      "mini_batch_id,items,attempts,worker,start_time,elapsed_ms,succeeded,failed,status,error\n";
  int64_t after = 0;
  while (true) {
    LOTE_ASSIGN_OR_RETURN(auto tasks, store.ListTasks(v["name"], after, 2000));
    if (tasks.empty()) break;
    for (const auto& t : tasks) {
      std::string start = t.started_ms > 0 ? FormatRfc3339(std::chrono::system_clock::time_point(
                                                 std::chrono::milliseconds(t.started_ms)))
                                           : "";
      std::string status = t.status == "done" ? (t.outcome.empty() ? "RUN_DONE" : t.outcome) : t.outcome;
      if (status.empty()) status = t.status;
      csv += std::to_string(t.id) + "," + std::to_string(t.items.size()) + "," + std::to_string(t.attempts) +
             "," + CsvField(t.worker) + "," + start + "," + std::to_string(t.elapsed_ms) + "," +
             std::to_string(t.succeeded) + "," + std::to_string(t.failed) + "," + status + "," +
             CsvField(t.error) + "\n";
      after = t.id;
    }
  }
  LOTE_TRY(WriteFileAtomic(dir.logs() / "sys" / "job_report" / "processed_mini-batches.csv", csv));
  std::string result = "Job: " + v["name"].get<std::string>() + "\nStatus: " + v["status"].get<std::string>() + "\n";
  if (v.contains("error")) result += "Reason: " + v["error"].get<std::string>() + "\n";
  const json& items = v["progress"]["items"];
  result += "Items: " + items["succeeded"].dump() + " succeeded, " + items["failed"].dump() + " failed\n";
  if (v["output"].contains("written")) result += "Output: " + v["output"]["uri"].get<std::string>() + "\n";
  return WriteFileAtomic(dir.logs() / "job_result.txt", result);
}

namespace {

Status WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return IoError(std::string("cannot write the output: ") + std::strerror(errno));
    data += w;
    n -= static_cast<size_t>(w);
  }
  return {};
}

// Copies the committed rows of done tasks, reading each results file through
// one open descriptor (batches interleave across a few files).
class RowsReader {
 public:
  explicit RowsReader(const JobDir& dir) : dir_(dir) {}
  ~RowsReader() {
    for (auto& [name, fd] : open_) ::close(fd);
  }
  // Appends the task's rows to out_fd, in the kernel where it can
  // (copy_file_range), else through a buffer.
  Status CopyTo(const store::Task& t, int out_fd) {
    const bool legacy = t.part.empty();
    const fs::path file = legacy ? dir_.part(t.id) : dir_.results() / t.part;
    auto it = open_.find(file.string());
    if (it == open_.end()) {
      if (open_.size() >= kMaxOpen) {
        for (auto& [name, fd] : open_) ::close(fd);
        open_.clear();
      }
      int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        return IoError("committed rows of mini-batch " + std::to_string(t.id) + " are missing (" +
                       file.filename().string() + ": " + std::strerror(errno) + ")");
      }
      it = open_.emplace(file.string(), fd).first;
    }
    loff_t offset = legacy ? 0 : t.part_offset;
    int64_t left = legacy ? -1 : t.part_length;  // -1: to the end of the file
    const std::string what = "the rows of mini-batch " + std::to_string(t.id);
    while (left != 0) {
      size_t want = left < 0 ? size_t{1} << 30 : static_cast<size_t>(left);
      ssize_t n = -1;
      if (kernel_copy_) {
        n = ::copy_file_range(it->second, &offset, out_fd, nullptr, want, 0);
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
          kernel_copy_ = false;
          continue;
        }
      } else {
        n = ::pread(it->second, buf_.data(), std::min(want, buf_.size()), offset);
        if (n > 0) {
          if (Status st = WriteAll(out_fd, buf_.data(), static_cast<size_t>(n)); !st) return st;
          offset += n;
        }
      }
      if (n < 0) return IoError("cannot copy " + what + ": " + std::strerror(errno));
      if (n == 0) {
        if (left < 0) break;
        return IoError(what + " are cut short in " + file.filename().string());
      }
      if (left > 0) left -= n;
    }
    return {};
  }

 private:
  static constexpr size_t kMaxOpen = 64;
  const JobDir& dir_;
  std::map<std::string, int> open_;
  std::vector<char> buf_ = std::vector<char>(1 << 20);
  bool kernel_copy_ = true;
};

}  // namespace

Result<int64_t> AssembleOutput(const JobDir& dir, const std::string& job, store::JobStore& store,
                               const fs::path& dest) {
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  fs::path tmp = dest.parent_path() / ("." + dest.filename().string() + ".tmp-" + RandomHex(4));
  int64_t rows = 0;
  {
    int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) return IoError("cannot write '" + tmp.string() + "': " + std::strerror(errno));
    bool header_written = false;
    RowsReader reader(dir);
    int64_t after = 0;
    Status copied;
    while (copied) {
      auto tasks = store.ListTasks(job, after, 2000);
      if (!tasks) {
        copied = tasks.error();
        break;
      }
      if (tasks->empty()) break;
      for (const auto& t : *tasks) {
        after = t.id;
        if (t.status != "done") continue;
        if (!header_written) {
          std::string h = t.header;
          if (h.empty() && t.part.empty() && fs::exists(dir.header(t.id), ec)) {
            auto legacy = ReadFile(dir.header(t.id));  // written by lote before batched results
            if (legacy) h = *legacy;
          }
          if (!h.empty()) {
            h += "\n";
            copied = WriteAll(out, h.data(), h.size());
            if (!copied) break;
            header_written = true;
          }
        }
        copied = reader.CopyTo(t, out);
        if (!copied) break;
        rows += t.succeeded;
      }
    }
    if (::close(out) != 0 && copied) copied = IoError(std::string("cannot write the output: ") + std::strerror(errno));
    if (!copied) {
      fs::remove(tmp, ec);
      return copied.error().WithContext("writing '" + dest.filename().string() + "'");
    }
  }
  // link() refuses to replace: whatever appeared at dest meanwhile is kept.
  if (::link(tmp.c_str(), dest.c_str()) != 0) {
    int err = errno;
    fs::remove(tmp, ec);
    if (err == EEXIST) {
      return AlreadyExists("'" + dest.filename().string() + "' appeared in the output location while "
                           "the job ran; it was not overwritten");
    }
    return IoError("cannot create '" + dest.string() + "': " + std::strerror(err));
  }
  fs::remove(tmp, ec);
  return rows;
}

}  // namespace lote::jobs
