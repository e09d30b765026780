// The control plane's own log (lote serve --log-level, --log-file): one line
// per event, "2026-11-28T14:20:01.123Z info  job: job=x status Running", to
// stderr or appended to a file. Thread-safe. Job logs (the job's folder) are
// apart: this is the server's view of everything, including what no job owns
// (requests, errors of the store, agents that could not be started).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace spdlog {
class logger;
}

namespace lote {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

class ServerLog {
 public:
  // level: debug, info, warning (warn) or error; file: "" for stderr.
  static Result<std::unique_ptr<ServerLog>> Create(const std::string& level, const std::string& file);
  ~ServerLog();

  bool Enabled(LogLevel level) const;
  // `component` names the part of the server ("http", "job", "scheduler").
  void Write(LogLevel level, std::string_view component, std::string_view message);
  void Info(std::string_view component, std::string_view message) { Write(LogLevel::kInfo, component, message); }
  void Warn(std::string_view component, std::string_view message) { Write(LogLevel::kWarn, component, message); }
  void Error(std::string_view component, std::string_view message) { Write(LogLevel::kError, component, message); }
  void Flush();

 private:
  explicit ServerLog(std::shared_ptr<spdlog::logger> logger);
  std::shared_ptr<spdlog::logger> logger_;
};

// Writes to `log` when there is one, else to stderr (tests and tools that
// run a job manager without a server log).
void LogTo(ServerLog* log, LogLevel level, std::string_view component, std::string_view message);

}  // namespace lote
