#include "common/server_log.h"

#include <cstdio>

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace lote {

namespace {

spdlog::level::level_enum ToSpd(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

ServerLog::ServerLog(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}
ServerLog::~ServerLog() {
  if (logger_) logger_->flush();
}

Result<std::unique_ptr<ServerLog>> ServerLog::Create(const std::string& level, const std::string& file) {
  LogLevel l;
  if (level == "debug") l = LogLevel::kDebug;
  else if (level == "info") l = LogLevel::kInfo;
  else if (level == "warning" || level == "warn") l = LogLevel::kWarn;
  else if (level == "error") l = LogLevel::kError;
  else return InvalidArgument("--log-level must be debug, info, warning or error, not '" + level + "'", "--log-level");
  spdlog::sink_ptr sink;
  try {
    if (file.empty()) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    else sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, /*truncate=*/false);
  } catch (const spdlog::spdlog_ex& e) {
    return IoError("cannot open the log file '" + file + "': " + e.what());
  }
  auto logger = std::make_shared<spdlog::logger>("lote", sink);
  logger->set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v",
                                                                    spdlog::pattern_time_type::utc));
  logger->set_level(ToSpd(l));
  logger->flush_on(spdlog::level::info);  // a crash loses no line that was logged
  return std::unique_ptr<ServerLog>(new ServerLog(std::move(logger)));
}

bool ServerLog::Enabled(LogLevel level) const { return logger_->should_log(ToSpd(level)); }

void ServerLog::Write(LogLevel level, std::string_view component, std::string_view message) {
  if (!Enabled(level)) return;
  try {
    logger_->log(ToSpd(level), "{}: {}", component, message);
  } catch (...) {
    // A log that cannot be written must not take a request or the scheduler with it.
  }
}

void ServerLog::Flush() { logger_->flush(); }

void LogTo(ServerLog* log, LogLevel level, std::string_view component, std::string_view message) {
  if (log != nullptr) return log->Write(level, component, message);
  std::fprintf(stderr, "lote: %.*s: %.*s\n", static_cast<int>(component.size()), component.data(),
               static_cast<int>(message.size()), message.data());
}

}  // namespace lote
