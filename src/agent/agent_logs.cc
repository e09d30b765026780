#include "agent/agent_logs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/util.h"

namespace lote::agent {

namespace fs = std::filesystem;

namespace {

std::string NodeDir(int node) { return "node" + std::to_string(node); }

Status AppendToFile(const fs::path& path, std::string_view text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot open '" + path.string() + "': " + std::strerror(errno));
  Status st;
  while (!text.empty()) {
    ssize_t w = write(fd, text.data(), text.size());
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      st = IoError("cannot write '" + path.string() + "': " + std::strerror(errno));
      break;
    }
    text.remove_prefix(static_cast<size_t>(w));
  }
  close(fd);
  return st;
}

std::string DescribeItem(const nlohmann::json& item) {
  if (!item.is_object()) return item.dump();
  // Remote items name their file by its base name only.
  std::string s = item.contains("path") ? item.value("path", std::string("?")) : item.value("name", std::string("?"));
  if (item.contains("offset") && item.contains("length")) {
    s += " [bytes " + item["offset"].dump() + "+" + item["length"].dump() + "]";
  }
  return s;
}

void AppendIndented(std::string& out, const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += "  ";
    out.append(text, start, end - start);
    out += "\n";
    start = end + 1;
  }
}

}  // namespace

fs::path NodeLogLayout::stdout_dir() const { return log_dir / "user" / "stdout" / NodeDir(node); }
fs::path NodeLogLayout::error_dir() const { return log_dir / "user" / "error" / NodeDir(node); }
fs::path NodeLogLayout::sys_dir() const { return log_dir / "sys" / "node" / NodeDir(node); }
fs::path NodeLogLayout::worker_stdout(int process) const {
  return stdout_dir() / (ProcessName(process) + ".stdout.txt");
}
fs::path NodeLogLayout::worker_stderr(int process) const {
  return stdout_dir() / (ProcessName(process) + ".stderr.txt");
}
fs::path NodeLogLayout::error_log(int process) const {
  return error_dir() / (ProcessName(process) + ".txt");
}
fs::path NodeLogLayout::agent_log() const { return sys_dir() / "agent.txt"; }

Status NodeLogLayout::CreateDirectories() const {
  for (const auto& dir : {stdout_dir(), error_dir(), sys_dir()}) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return IoError("cannot create log directory '" + dir.string() + "': " + ec.message());
  }
  return {};
}

std::string ProcessName(int process) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "process%03d", process);
  return buf;
}

std::string WorkerName(int node, int process) { return NodeDir(node) + "/" + ProcessName(process); }

LogLevel ParseLogLevel(const std::string& name) {
  std::string n = ToLower(name);
  if (n == "debug") return LogLevel::kDebug;
  if (n == "warning" || n == "warn") return LogLevel::kWarning;
  if (n == "error" || n == "critical") return LogLevel::kError;
  return LogLevel::kInfo;
}

SysLog::~SysLog() {
  if (fd_ >= 0) close(fd_);
}

Status SysLog::Open(const fs::path& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot open '" + path.string() + "': " + std::strerror(errno));
  std::lock_guard lock(mu_);
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
  return {};
}

void SysLog::set_level(LogLevel level) {
  std::lock_guard lock(mu_);
  level_ = level;
}

void SysLog::Log(LogLevel level, const std::string& message, bool to_stderr) {
  static constexpr const char* kNames[] = {"DEBUG", "INFO", "WARNING", "ERROR"};
  std::string line =
      NowRfc3339() + " " + kNames[static_cast<int>(level)] + " " + message + "\n";
  std::lock_guard lock(mu_);
  if (level < level_) return;
  if (fd_ >= 0) {
    // One write per line: O_APPEND keeps lines whole.
    ssize_t ignored = write(fd_, line.data(), line.size());
    (void)ignored;
  }
  if ((level >= LogLevel::kWarning && to_stderr) || fd_ < 0) {
    std::string err = "lote agent: " + line;
    ssize_t ignored = write(2, err.data(), err.size());
    (void)ignored;
  }
}

std::string FormatFailure(const FailureRecord& r) {
  constexpr size_t kMaxListed = 20;
  std::string out = "==== " + NowRfc3339();
  if (r.mini_batch) {
    out += "  mini-batch " + std::to_string(*r.mini_batch) + "  attempt " +
           std::to_string(r.attempt);
  }
  if (!r.context.empty()) out += "  " + r.context;
  out += "  " + r.outcome + "\n";
  if (r.items.is_array() && !r.items.empty()) {
    out += "items (" + std::to_string(r.items.size()) + "):";
    size_t n = 0;
    for (const auto& item : r.items) {
      if (n++ == kMaxListed) {
        out += " … and " + std::to_string(r.items.size() - kMaxListed) + " more";
        break;
      }
      out += (n == 1 ? " " : ", ") + DescribeItem(item);
    }
    out += "\n";
  }
  out += "error: " + r.error + "\n";
  if (!r.traceback.empty()) {
    out += "traceback:\n";
    AppendIndented(out, r.traceback);
  }
  out += "\n";
  return out;
}

Status AppendFailure(const fs::path& error_log, const FailureRecord& record) {
  return AppendToFile(error_log, FormatFailure(record));
}

}  // namespace lote::agent
