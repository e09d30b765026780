// WorkerSlot's worker process: starting one and waiting for it to be ready
// (hello, init, ready), recording the interpreter it runs, ending it, and
// reading its stderr for a failure's traceback. The mini-batch loop is in
// worker_slot.cc.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "agent/worker_slot.h"
#include "agent/worker_slot_internal.h"
#include "runtime/deadline.h"

namespace lote::agent {

using nlohmann::json;
using runtime::Deadline;
using runtime::IsClosed;
using runtime::IsTimeout;
using runtime::WorkerProcess;
using slot_internal::kInitFailed;
using slot_internal::StringField;
using slot_internal::ToMs;

namespace {

// How much of a dead worker's stderr goes into the failure's traceback.
constexpr uintmax_t kStderrTailBytes = 4096;

}  // namespace

std::optional<SlotOutcome> WorkerSlot::EnsureWorker() {
  const AgentTuning& tuning = env_.options->tuning;
  const int starts = 1 + std::max(0, tuning.worker_start_retries);
  auto backoff = tuning.restart_backoff;
  for (int start = 1; start <= starts; ++start) {
    if (env_.state->stopping()) return SlotOutcome::kStopped;
    auto failure = StartReadyWorker();
    if (!failure) return std::nullopt;
    if (env_.state->stopping()) return SlotOutcome::kStopped;
    failure->context = "worker start " + std::to_string(start) + " of " + std::to_string(starts);
    last_start_error_ = failure->error;
    LogFailure(*failure);
    env_.log->Warning(name_ + ": " + failure->context + " failed: " + failure->error);
    if (start < starts) {
      if (env_.state->SleepFor(backoff)) return SlotOutcome::kStopped;
      backoff *= 2;
    }
  }
  env_.log->Error(name_ + ": giving up after " + std::to_string(starts) +
                  " failed worker starts; last error: " + last_start_error_ + " (see " +
                  env_.layout.error_log(process_).string() + ")");
  return SlotOutcome::kGaveUp;
}

std::optional<FailureRecord> WorkerSlot::StartReadyWorker() {
  const AgentConfig& cfg = *env_.config;
  runtime::WorkerOptions wo;
  if (cfg.runtime_kind == "native") {
    // The native worker is this same binary.
    std::error_code ec;
    wo.argv = {std::filesystem::read_symlink("/proc/self/exe", ec).string(), "worker"};
  } else {
    wo.argv = {cfg.python, cfg.runner};
  }
  wo.env_extra = cfg.environment_variables;
  wo.env_extra["PYTHONUNBUFFERED"] = "1";
  // The Python runner's no-code driver reads Parquet with `lote parquet
  // decode` (python/lote_drivers/columnar.py): this same binary.
  if (cfg.runtime_kind != "native") {
    std::error_code ec;
    wo.env_extra["LOTE_BIN"] = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  }
  wo.env_extra["LOTE_JOB"] = cfg.job;
  wo.env_extra["LOTE_NODE"] = std::to_string(env_.options->node);
  wo.env_extra["LOTE_PROCESS"] = std::to_string(process_);
  wo.env_remove = {"LOTE_TOKEN"};  // the agent's credential is not the user's code's
  wo.stdout_path = env_.layout.worker_stdout(process_);
  wo.stderr_path = env_.layout.worker_stderr(process_);
  if (cfg.code_dir) wo.cwd = *cfg.code_dir;

  FailureRecord failure;
  failure.outcome = kInitFailed;
  stderr_at_start_ = StderrSize();
  auto started = WorkerProcess::Start(wo);
  if (!started) {
    failure.error = started.error().message();
    return failure;
  }
  worker_ = std::move(*started);
  if (!env_.state->TrackWorker(worker_->pid())) {
    EndWorker(End::kKill);
    failure.error = "the agent is stopping";
    return failure;
  }

  const int init_timeout_s = std::max(cfg.timeout_s, env_.options->tuning.min_init_timeout_s);
  Deadline deadline = Deadline::AfterMs(init_timeout_s * 1000);
  auto hello = worker_->Receive(deadline.RemainingMs());
  if (!hello) return InitFailure(hello.error(), init_timeout_s);
  std::string type = StringField(hello->msg, "type");
  if (type != "hello") {
    EndWorker(End::kKill);
    failure.error = "worker broke the protocol: it sent '" + type + "' instead of 'hello'";
    return failure;
  }
  if (hello->msg.value("protocol", json()) != runtime::kProtocolVersion) {
    EndWorker(End::kKill);
    failure.error = "worker speaks protocol " + hello->msg.value("protocol", json()).dump() +
                    "; this agent speaks protocol " + std::to_string(runtime::kProtocolVersion);
    return failure;
  }

  RecordInterpreter(hello->msg);

  json init = {{"type", "init"},
               {"protocol", runtime::kProtocolVersion},
               {"model_dir", cfg.model_dir},
               {"code_dir", cfg.code_dir ? json(*cfg.code_dir) : json()},
               {"scoring_script", cfg.scoring_script ? json(*cfg.scoring_script) : json()},
               {"output_dir", cfg.output_dir},
               {"job", cfg.job},
               {"node", env_.options->node},
               {"process", process_},
               {"options", cfg.runtime_options}};
  if (auto sent = worker_->Send(init, {}, deadline.RemainingMs()); !sent) {
    return InitFailure(sent.error(), init_timeout_s);
  }
  auto ready = worker_->Receive(deadline.RemainingMs());
  if (!ready) return InitFailure(ready.error(), init_timeout_s);
  type = StringField(ready->msg, "type");
  if (type == "init_failed") {
    failure.error = StringField(ready->msg, "error");
    failure.traceback = StringField(ready->msg, "traceback");
    if (failure.error.empty()) failure.error = "init failed";
    EndWorker(End::kAfterExit);
    return failure;
  }
  if (type != "ready") {
    EndWorker(End::kKill);
    failure.error = "worker broke the protocol: it sent '" + type + "' instead of 'ready'";
    return failure;
  }
  env_.log->Info(name_ + ": worker pid " + std::to_string(worker_->pid()) + " is ready");
  return std::nullopt;
}

void WorkerSlot::RecordInterpreter(const json& hello) {
  if (!hello.contains("python") || !hello["python"].is_string()) return;  // not a Python worker
  // Once per node: the first worker's answer (every worker of a job runs the
  // same interpreter). O_EXCL so concurrent slots never interleave, and the
  // file never grows after it is written (remote agents ship it as a log).
  const std::filesystem::path path = env_.layout.sys_dir() / "interpreter.json";
  json rec = {{"node", env_.options->node}, {"version", hello["python"]}};
  if (hello.contains("executable") && hello["executable"].is_string()) rec["path"] = hello["executable"];
  const std::string text = rec.dump() + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno != EEXIST) env_.log->Warning("cannot record the interpreter in '" + path.string() + "': " + std::strerror(errno));
    return;
  }
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    env_.log->Warning("cannot write '" + path.string() + "': " + std::strerror(err));
    return;
  }
  env_.log->Info(name_ + ": python " + hello["python"].get<std::string>() +
                 (rec.contains("path") ? " at " + rec["path"].get<std::string>() : std::string()));
}

FailureRecord WorkerSlot::InitFailure(const Error& error, int init_timeout_s) {
  FailureRecord failure;
  failure.outcome = kInitFailed;
  if (IsTimeout(error)) {
    EndWorker(End::kKill);
    failure.error = "worker did not get ready within " + std::to_string(init_timeout_s) +
                    " s; it was killed";
  } else if (IsClosed(error)) {
    failure.error = "worker " + EndWorker(End::kAfterExit) + " during init";
    failure.traceback = StderrSince(stderr_at_start_);
  } else {
    EndWorker(End::kKill);
    failure.error = "worker broke the protocol during init: " + error.message();
  }
  return failure;
}
std::string WorkerSlot::EndWorker(End how) {
  if (!worker_) return "";
  // Untrack first: once reaped, its id may be reused by a stranger.
  env_.state->UntrackWorker(worker_->pid());
  switch (how) {
    case End::kShutdown:
      if (worker_->Send({{"type", "shutdown"}}, {}, 1000)) {
        worker_->WaitOrKill(ToMs(env_.options->tuning.shutdown_grace));
      } else {
        worker_->Kill();
      }
      break;
    case End::kAfterExit: worker_->WaitOrKill(ToMs(env_.options->tuning.exit_grace)); break;
    case End::kKill: worker_->Kill(); break;
  }
  std::string description = worker_->ExitDescription();
  env_.log->Info(name_ + ": worker pid " + std::to_string(worker_->pid()) + " " + description);
  worker_.reset();
  return description;
}

void WorkerSlot::LogFailure(const FailureRecord& record) {
  if (auto st = AppendFailure(env_.layout.error_log(process_), record); !st) {
    env_.log->Error(name_ + ": " + st.error().message());
  }
}

uintmax_t WorkerSlot::StderrSize() const {
  std::error_code ec;
  auto size = std::filesystem::file_size(env_.layout.worker_stderr(process_), ec);
  return ec ? 0 : size;
}

std::string WorkerSlot::StderrSince(uintmax_t offset) const {
  uintmax_t size = StderrSize();
  if (size <= offset) return "";
  uintmax_t from = std::max(offset, size > kStderrTailBytes ? size - kStderrTailBytes : 0);
  std::ifstream in(env_.layout.worker_stderr(process_), std::ios::binary);
  in.seekg(static_cast<std::streamoff>(from));
  std::string text(static_cast<size_t>(size - from), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
  std::string out = "the worker's stderr";
  out += from > offset ? " (last " + std::to_string(text.size()) + " bytes):\n" : ":\n";
  return out + text;
}

}  // namespace lote::agent
