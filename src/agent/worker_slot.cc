#include "agent/worker_slot.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <future>

#include "agent/range_items.h"
#include "agent/worker_slot_internal.h"
#include "agent/remote_items.h"
#include "runtime/deadline.h"

namespace lote::agent {

using nlohmann::json;
using runtime::Deadline;
using runtime::Frame;
using runtime::IsClosed;
using runtime::IsTimeout;
using runtime::WorkerProcess;
using slot_internal::StringField;

namespace {

constexpr char kRunException[] = "RUN_EXCEPTION";
constexpr char kRunTimeout[] = "RUN_TIMEOUT";
constexpr char kRunCrash[] = "RUN_CRASH";
constexpr char kItemFailed[] = "ITEM_FAILED";
// The mini-batch's input could not be prepared for the worker (a byte range
// that cannot be read into a chunk file, items too large for a frame).
constexpr char kRunInputError[] = "RUN_INPUT_ERROR";

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               t0)
      .count();
}

int64_t CountField(const json& msg, const char* key) {
  auto it = msg.find(key);
  return it != msg.end() && it->is_number_integer() ? std::max<int64_t>(0, it->get<int64_t>()) : 0;
}

}  // namespace

WorkerSlot::WorkerSlot(const SlotEnv& env, int process)
    : env_(env), process_(process), name_(WorkerName(env.options->node, process)) {}

WorkerSlot::~WorkerSlot() {
  EndWorker(End::kKill);
  if (!chunk_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(chunk_dir_, ec);
  }
}

bool WorkerSlot::TakesWholeFiles() const {
  return env_.config->runtime_kind == "python" && env_.config->scoring_script.has_value();
}

Result<std::filesystem::path> WorkerSlot::ChunkDir() {
  if (!chunk_dir_.empty()) return chunk_dir_;
  // A fresh private folder (mkdtemp: 0700, a name nobody could plant).
  std::error_code ec;
  std::string pattern = (std::filesystem::temp_directory_path(ec) / "lote-chunks-XXXXXX").string();
  if (ec) pattern = "/tmp/lote-chunks-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return IoError("cannot create a folder for byte-range chunks (" + pattern +
                   "): " + std::strerror(errno));
  }
  chunk_dir_ = pattern;
  return chunk_dir_;
}

SlotOutcome WorkerSlot::Run() {
  const ControlPlaneOptions cp{.server_url = env_.options->server_url,
                               .token = env_.options->token,
                               .job = env_.options->job,
                               .unreachable_timeout_s = env_.options->server_timeout_s,
                               .state = env_.state,
                               .results_dir = {}};
  ControlPlaneClient client(cp);
  ControlPlaneOptions sender = cp;
  sender.results_dir = env_.config->results_dir;  // results by file, on the server's host
  sender_ = std::make_unique<ControlPlaneClient>(sender);
  SlotOutcome outcome = RunLoop(client);
  WaitFlushed();
  return outcome;
}

SlotOutcome WorkerSlot::RunLoop(ControlPlaneClient& client) {
  for (;;) {
    if (env_.state->stopping()) {
      EndWorker(End::kKill);
      return SlotOutcome::kStopped;
    }
    if (!worker_) {
      if (auto outcome = EnsureWorker()) return *outcome;
    }
    auto lease = client.Lease(name_, NextLeaseSize());
    if (!lease) {
      EndWorker(End::kKill);
      if (!env_.state->stopping()) {
        const Error& e = lease.error();
        env_.log->Error(name_ + ": cannot lease work: " + e.message());
        env_.state->Stop(e.code() == ErrorCode::kUnavailable ? kAgentExitUnreachable
                                                             : kAgentExitError,
                         e.message());
      }
      return SlotOutcome::kStopped;
    }
    if (lease->finished) {
      env_.log->Info(name_ + ": the job hands out no more work; stopping the worker");
      EndWorker(End::kShutdown);
      return SlotOutcome::kFinished;
    }
    if (lease->tasks.empty()) {
      env_.state->SleepFor(env_.options->tuning.idle_poll);
      continue;
    }
    if (auto outcome = RunLeased(client, lease->tasks, lease->lease_ms)) return *outcome;
  }
}

std::optional<SlotOutcome> WorkerSlot::RunLeased(ControlPlaneClient& client,
                                                 const std::vector<LeasedTask>& tasks,
                                                 int64_t lease_ms) {
  // A task starts only while it can still finish (run timeout plus a margin)
  // before its lease runs out; later ones go back unstarted.
  using Clock = std::chrono::steady_clock;
  const auto start_by = lease_ms > 0 ? Clock::now() + std::chrono::milliseconds(lease_ms) -
                                           std::chrono::seconds(env_.config->timeout_s + 5)
                                     : Clock::time_point::max();
  auto hand_back = [&](size_t from) {
    std::vector<LeasedTask> rest(tasks.begin() + static_cast<std::ptrdiff_t>(from), tasks.end());
    if (rest.empty() || env_.state->stopping()) return;
    if (auto st = client.ReleaseTasks(name_, rest); !st) {
      env_.log->Warning(name_ + ": cannot hand back " + std::to_string(rest.size()) +
                        " unstarted mini-batches (their leases will expire): " + st.error().message());
    }
  };
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (env_.state->stopping()) return std::nullopt;
    if (!worker_) {
      // The previous task cost the worker: report what is done, then get a new one.
      FlushResults();
      if (auto outcome = EnsureWorker()) {
        hand_back(i);
        return outcome;
      }
    }
    if (i > 0 && Clock::now() > start_by) {
      env_.log->Info(name_ + ": handing back " + std::to_string(tasks.size() - i) +
                     " mini-batches that could not finish within their lease");
      hand_back(i);
      break;
    }
    RunTask(client, tasks[i]);
    if (pending_bytes_ >= kFlushBytes) FlushResults();
  }
  FlushResults();
  return std::nullopt;
}

int WorkerSlot::NextLeaseSize() const {
  if (task_us_ewma_ <= 0) return 1;
  return static_cast<int>(std::clamp(kLeaseWindowUs / task_us_ewma_, 1.0, double(kMaxLease)));
}

void WorkerSlot::FlushResults() {
  if (pending_results_.empty()) return;
  WaitFlushed();  // one request in flight at a time
  auto batch = std::make_shared<std::vector<TaskResult>>(std::move(pending_results_));
  pending_results_.clear();
  pending_bytes_ = 0;
  // Posted beside the slot's thread: the worker goes on with the next
  // mini-batch meanwhile.
  flushing_ = std::async(std::launch::async, [this, batch] {
    auto answer = sender_->PostResults(name_, *batch);
    if (!answer) {
      return HandleReportError(std::to_string(batch->size()) + " mini-batch result(s)",
                               answer.error());
    }
    if (!answer->fell_back.empty()) {
      env_.log->Warning(name_ + ": results go in the request body from now on: " + answer->fell_back);
    }
    env_.log->Debug(name_ + ": " + std::to_string(batch->size()) + " mini-batch result(s) posted " +
                    (answer->by_file ? "by file" : "in the body"));
    for (const auto& [task, reason] : answer->dropped) {
      env_.log->Warning(name_ + ": mini-batch " + std::to_string(task) +
                        ": answer dropped, the lease is no longer current (" + reason + ")");
    }
  });
}

void WorkerSlot::WaitFlushed() {
  if (flushing_.valid()) flushing_.get();
}


void WorkerSlot::RunTask(ControlPlaneClient& client, const LeasedTask& task) {
  const int timeout_s = env_.config->timeout_s;
  const int64_t started_ms = UnixMs();
  const auto t0 = std::chrono::steady_clock::now();
  const uintmax_t stderr_at = StderrSize();
  env_.log->Debug(name_ + ": mini-batch " + std::to_string(task.id) + " attempt " +
                  std::to_string(task.attempt) + ": " + std::to_string(task.items.size()) +
                  " items");

  // The worker's items, as files on this node. A mini-batch whose input
  // cannot be prepared fails the attempt (RUN_INPUT_ERROR); it is never
  // handed on half-made (for score.py, a raw range would be scored as the
  // whole file once per range).
  json items = task.items;
  std::vector<std::filesystem::path> chunks;
  std::filesystem::path fetched_dir;
  struct ChunkCleanup {
    std::vector<std::filesystem::path>& files;
    std::filesystem::path& dir;
    ~ChunkCleanup() {
      std::error_code ec;
      for (const auto& f : files) std::filesystem::remove(f, ec);
      if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
  } cleanup{chunks, fetched_dir};
  if (env_.config->input_access == Access::kRemote) {
    // Fetched through the control plane into this slot's scratch folder,
    // removed after the mini-batch.
    fetched_dir = env_.scratch_dir / ProcessName(process_) / std::to_string(task.id);
    auto fetched = FetchItems(
        task.items, fetched_dir, TakesWholeFiles(),
        [&](size_t index, std::optional<size_t> span, DownloadSink& sink) {
          return client.DownloadItem(task.id, index, span, task.lease, sink);
        },
        &chunks);
    if (!fetched) {
      if (env_.state->stopping()) return;
      const Error& e = fetched.error();
      if (e.code() == ErrorCode::kUnavailable) {
        env_.log->Error(name_ + ": mini-batch " + std::to_string(task.id) + ": " + e.message());
        env_.state->Stop(kAgentExitUnreachable, e.message());
        return;
      }
      return ReportFailure(client, task, kRunInputError, e.message(), "", started_ms, MsSince(t0));
    }
    items = std::move(*fetched);
  } else if (TakesWholeFiles()) {
    // score.py takes whole files: byte ranges become temporary chunk files.
    auto dir = ChunkDir();
    auto materialized = dir ? MaterializeRanges(task.items, *dir, &chunks)
                            : Result<json>(dir.error());
    if (!materialized) {
      return ReportFailure(client, task, kRunInputError, materialized.error().message(), "",
                           started_ms, MsSince(t0));
    }
    items = std::move(*materialized);
  }
  // The run timeout counts from here: fetching the input is not run() time.
  Deadline deadline = Deadline::AfterMs(timeout_s * 1000);
  json run = {{"type", "run"},
              {"mini_batch", task.id},
              {"attempt", task.attempt},
              {"items", std::move(items)}};
  Status sent = worker_->Send(run, {}, deadline.RemainingMs());
  if (!sent && runtime::IsRefusedMessage(sent.error())) {
    // Nothing was written: the worker is fine, the mini-batch cannot be sent.
    return ReportFailure(client, task, kRunInputError,
                         "mini-batch " + std::to_string(task.id) +
                             " cannot be sent to a worker: " + sent.error().message(),
                         "", started_ms, MsSince(t0));
  }
  Result<Frame> answer =
      sent ? worker_->Receive(deadline.RemainingMs()) : Result<Frame>(sent.error());
  const int64_t elapsed_ms = MsSince(t0);
  const double took_us = static_cast<double>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  task_us_ewma_ = task_us_ewma_ <= 0 ? took_us : 0.7 * task_us_ewma_ + 0.3 * took_us;

  if (env_.state->stopping()) {  // the worker was killed by Stop(): report nothing
    EndWorker(End::kKill);
    return;
  }
  if (answer) {
    runtime::BoundMessageTexts(answer->msg);
    std::string type = StringField(answer->msg, "type");
    auto mb = answer->msg.find("mini_batch");
    bool same_batch = mb == answer->msg.end() || mb->is_null() || *mb == task.id;
    if (type == "result" && same_batch) {
      return ReportResult(task, *answer, started_ms, elapsed_ms);
    }
    if (type == "run_failed" && same_batch) {
      std::string error = StringField(answer->msg, "error");
      return ReportFailure(client, task, kRunException, error.empty() ? "run() failed" : error,
                           StringField(answer->msg, "traceback"), started_ms, elapsed_ms);
    }
    EndWorker(End::kKill);
    std::string what = same_batch ? "an unexpected '" + type + "' message"
                                  : "an answer for mini-batch " + mb->dump();
    return ReportFailure(client, task, kRunCrash,
                         "worker broke the protocol: it sent " + what + "; the worker was killed",
                         "", started_ms, elapsed_ms);
  }
  const Error& e = answer.error();
  if (IsTimeout(e)) {
    EndWorker(End::kKill);
    return ReportFailure(client, task, kRunTimeout,
                         "run() did not finish within " + std::to_string(timeout_s) +
                             " s; the worker was killed",
                         "", started_ms, elapsed_ms);
  }
  if (IsClosed(e)) {
    std::string how = EndWorker(End::kAfterExit);
    return ReportFailure(client, task, kRunCrash, "worker " + how, StderrSince(stderr_at),
                         started_ms, elapsed_ms);
  }
  EndWorker(End::kKill);
  ReportFailure(client, task, kRunCrash,
                "worker broke the protocol: " + e.message() + "; the worker was killed", "",
                started_ms, elapsed_ms);
}

namespace {

// One item error as the control plane keeps it: the texts already bounded by
// runtime::BoundMessageTexts, the row as text (the native driver sends "17",
// a Python driver may send 17).
json ReportedItemError(const json& ie) {
  json out = {{"item", StringField(ie, "item")}, {"error", StringField(ie, "error")}};
  if (auto it = ie.find("item"); it == ie.end() || !it->is_string()) out["item"] = "?";
  if (auto row = ie.find("row"); row != ie.end()) {
    if (row->is_string()) out["row"] = *row;
    if (row->is_number_integer()) out["row"] = std::to_string(row->get<int64_t>());
  }
  if (auto col = ie.find("column"); col != ie.end() && col->is_string()) out["column"] = *col;
  return out;
}

}  // namespace

void WorkerSlot::ReportResult(const LeasedTask& task, Frame& answer, int64_t started_ms,
                              int64_t elapsed_ms) {
  const json& msg = answer.msg;
  json reported = json::array();
  if (auto errs = msg.find("item_errors"); errs != msg.end() && errs->is_array()) {
    size_t unlisted = 0;
    for (const auto& ie : *errs) {
      if (!ie.is_object()) continue;
      if (reported.size() + 1 < runtime::kMaxReportedItemErrors) {
        reported.push_back(ReportedItemError(ie));
      } else {
        ++unlisted;
      }
      FailureRecord r;
      r.mini_batch = task.id;
      r.attempt = task.attempt;
      r.items = json::array({{{"path", ie.value("item", json("?"))}}});
      r.outcome = kItemFailed;
      r.error = StringField(ie, "error");
      r.traceback = StringField(ie, "traceback");
      LogFailure(r);
    }
    // The last slot says how many more there were (they are in the error log).
    if (unlisted > 0) {
      reported.push_back({{"item", "?"},
                          {"error", std::to_string(unlisted) +
                                        " more item errors in this result (listed in the agent's error log)"}});
    }
  }
  TaskResult result{.task_id = task.id,
                    .lease = task.lease,
                    .worker = name_,
                    .succeeded = CountField(msg, "succeeded"),
                    .failed = CountField(msg, "failed"),
                    .started_ms = started_ms,
                    .elapsed_ms = elapsed_ms,
                    .header = std::nullopt,
                    .payload = std::move(answer.payload),
                    .item_errors = std::move(reported)};
  if (auto h = msg.find("header"); h != msg.end() && h->is_string()) result.header = *h;
  env_.log->Debug(name_ + ": mini-batch " + std::to_string(task.id) + ": " +
                  std::to_string(result.succeeded) + " succeeded, " +
                  std::to_string(result.failed) + " failed in " + std::to_string(elapsed_ms) +
                  " ms");
  // The errors travel in the metadata line: counted, so that a batch's
  // metadata stays far below the server's bound on it.
  pending_bytes_ += result.payload.size() + (result.item_errors.empty() ? 0 : result.item_errors.dump().size());
  pending_results_.push_back(std::move(result));
}

void WorkerSlot::ReportFailure(ControlPlaneClient& client, const LeasedTask& task,
                               const std::string& outcome, const std::string& error,
                               const std::string& traceback, int64_t started_ms,
                               int64_t elapsed_ms) {
  FailureRecord record;
  record.mini_batch = task.id;
  record.attempt = task.attempt;
  record.items = task.items;
  record.outcome = outcome;
  record.error = runtime::TruncateText(error, runtime::kMaxErrorTextBytes);
  record.traceback = runtime::TruncateText(traceback, runtime::kMaxTracebackBytes);
  LogFailure(record);
  env_.log->Warning(name_ + ": mini-batch " + std::to_string(task.id) + " attempt " +
                    std::to_string(task.attempt) + ": " + outcome + ": " + record.error);
  auto status = client.PostFail({.task_id = task.id,
                                 .lease = task.lease,
                                 .worker = name_,
                                 .outcome = outcome,
                                 .error = record.error,
                                 .traceback = record.traceback,
                                 .started_ms = started_ms,
                                 .elapsed_ms = elapsed_ms});
  if (!status) return HandleReportError("mini-batch " + std::to_string(task.id), status.error());
  if (*status == "failed") {
    env_.log->Warning(name_ + ": mini-batch " + std::to_string(task.id) +
                      " has no attempts left and failed");
  }
}

void WorkerSlot::HandleReportError(const std::string& what, const Error& error) {
  if (env_.state->stopping()) return;
  std::string mb = what + ": ";
  if (error.code() == ErrorCode::kFailedPrecondition) {
    env_.log->Warning(name_ + ": " + mb + "answer dropped, the lease is no longer current (" +
                      error.message() + ")");
  } else if (error.code() == ErrorCode::kUnavailable) {
    env_.log->Error(name_ + ": " + mb + error.message());
    env_.state->Stop(kAgentExitUnreachable, error.message());
  } else {
    // The leases will expire and the control plane retries the mini-batches.
    env_.log->Error(name_ + ": " + mb + "the control plane refused the answer: " +
                    error.message());
  }
}

}  // namespace lote::agent
