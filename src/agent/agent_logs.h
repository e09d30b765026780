// The agent's log files, in the layout of docs/agent-api.md:
//   <log_dir>/user/stdout/node<I>/process<NNN>.stdout.txt   worker stdout
//   <log_dir>/user/stdout/node<I>/process<NNN>.stderr.txt   worker stderr
//   <log_dir>/user/error/node<I>/process<NNN>.txt           failed attempts
//   <log_dir>/sys/node/node<I>/agent.txt                    the agent itself
// Files are appended to (an agent restarted on the same node adds to them).
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::agent {

struct NodeLogLayout {
  std::filesystem::path log_dir;
  int node = 0;

  std::filesystem::path stdout_dir() const;
  std::filesystem::path error_dir() const;
  std::filesystem::path sys_dir() const;
  std::filesystem::path worker_stdout(int process) const;
  std::filesystem::path worker_stderr(int process) const;
  std::filesystem::path error_log(int process) const;
  std::filesystem::path agent_log() const;

  // Creates the three directories.
  Status CreateDirectories() const;
};

// "process007"
std::string ProcessName(int process);
// "node0/process007": how the agent names a worker to the control plane.
std::string WorkerName(int node, int process);

enum class LogLevel { kDebug, kInfo, kWarning, kError };
// "debug", "info", "warning"/"warn", "error"/"critical"; anything else is info.
LogLevel ParseLogLevel(const std::string& name);

// The agent's own log. Thread-safe. Warnings and errors also go to stderr, so
// whoever started the agent sees why it stopped.
class SysLog {
 public:
  SysLog() = default;  // stderr only, until Open()
  ~SysLog();
  SysLog(const SysLog&) = delete;
  SysLog& operator=(const SysLog&) = delete;

  Status Open(const std::filesystem::path& path);
  void set_level(LogLevel level);

  // to_stderr false: the file only (the caller reports it on stderr itself).
  void Log(LogLevel level, const std::string& message, bool to_stderr = true);
  void Debug(const std::string& m) { Log(LogLevel::kDebug, m); }
  void Info(const std::string& m) { Log(LogLevel::kInfo, m); }
  void Warning(const std::string& m) { Log(LogLevel::kWarning, m); }
  void Error(const std::string& m) { Log(LogLevel::kError, m); }

 private:
  std::mutex mu_;
  int fd_ = -1;
  LogLevel level_ = LogLevel::kInfo;
};

// One failed attempt (or failed item, or failed worker start) as the user's
// error log shows it.
struct FailureRecord {
  std::optional<int64_t> mini_batch;  // none for a failed worker start
  int attempt = 0;
  nlohmann::json items = nlohmann::json::array();  // [{"path": …}, …]
  std::string outcome;                             // RUN_EXCEPTION, INIT_FAILED, …
  std::string error;
  std::string traceback;
  std::string context;  // e.g. "worker start 2 of 4"; optional
};

// Formats one block of the error log (a header line with time, mini-batch,
// attempt and outcome; then items, error and traceback).
std::string FormatFailure(const FailureRecord& record);

// Appends a block to the error log of one worker process. Errors writing the
// log are returned, not thrown; the agent reports them in its sys log.
Status AppendFailure(const std::filesystem::path& error_log, const FailureRecord& record);

}  // namespace lote::agent
