// One worker slot of a node agent: a thread that keeps one worker process
// alive and feeds it mini-batches leased from the control plane
// (docs/agent-api.md, docs/worker-protocol.md).
//
//   start worker → hello → init → ready      (failures: retried with backoff,
//   repeat: lease n → run each → results      then the slot gives up)
//   finished → shutdown
//
// The slot leases as many mini-batches as it runs in about kLeaseWindowUs
// (from the recent run times; 1 at first, at most kMaxLease) and reports
// their results in one request after the last (or once kFlushBytes of rows
// are waiting, or before a worker restart), posted from another thread while
// the worker goes on. Tiny mini-batches so cost two
// round trips per lease, not per mini-batch; slow ones are leased one at a
// time as before. A leased task that could no longer finish before its lease
// expires is handed back unstarted.
//
// A task is leased only once the worker is ready. With remote input access
// its items are first fetched through the control plane into the slot's
// scratch folder and removed after it ran (agent/remote_items.h); the run
// timeout starts once they are there. A score.py worker gets each byte-range
// item as a chunk file (agent/range_items.h); a mini-batch whose input
// cannot be prepared, fetched or sent (a range that cannot be read, an item
// the control plane no longer serves, items too large for a frame) is
// reported as RUN_INPUT_ERROR and the worker is kept.
// Error texts and item errors are bounded (runtime/frame.h) before they are
// logged or reported. A run_failed is reported as RUN_EXCEPTION and the
// worker is kept; a run past timeout_s kills the
// worker's process group (RUN_TIMEOUT) and a worker that dies is RUN_CRASH;
// either way the next task gets a fresh worker. Every failed attempt (and
// failed item, and failed worker start) gets a block in the process's error
// log.
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent_config.h"
#include "agent/agent_logs.h"
#include "agent/agent_options.h"
#include "agent/agent_state.h"
#include "agent/control_plane_client.h"
#include "runtime/worker_process.h"

namespace lote::agent {

// What all slots of one agent share; not owned, outlives the slots.
struct SlotEnv {
  const AgentOptions* options;
  const AgentConfig* config;
  AgentState* state;
  SysLog* log;
  NodeLogLayout layout;
  // Remote inputs: where each slot fetches its mini-batches' items (a
  // folder per process, one per mini-batch, removed after it ran).
  std::filesystem::path scratch_dir;
};

enum class SlotOutcome {
  kFinished,  // the job handed out no more work
  kGaveUp,    // no worker could be started
  kStopped,   // the agent is stopping (signal, control plane gone, fatal error)
};

class WorkerSlot {
 public:
  WorkerSlot(const SlotEnv& env, int process);
  ~WorkerSlot();

  // Runs until the job is finished, the slot gives up, or the agent stops.
  // Call from the thread that owns the slot for its whole life (the worker
  // gets SIGTERM when the thread that started it exits).
  SlotOutcome Run();

  // Why the last worker start failed; empty if none did.
  const std::string& last_start_error() const { return last_start_error_; }

 private:
  enum class End { kShutdown, kAfterExit, kKill };

  // Starts workers until one is ready; nullopt on success.
  std::optional<SlotOutcome> EnsureWorker();
  // One start: nullopt when the worker is ready, else what went wrong.
  std::optional<FailureRecord> StartReadyWorker();
  // Writes <sys node log>/interpreter.json from a Python worker's hello
  // (version, executable), once per node; the job document shows it.
  void RecordInterpreter(const nlohmann::json& hello);
  FailureRecord InitFailure(const Error& error, int init_timeout_s);
  static constexpr double kLeaseWindowUs = 50'000;
  static constexpr int kMaxLease = 64;
  static constexpr size_t kFlushBytes = 8u << 20;

  // Runs leased tasks in order; an outcome when the slot must end.
  std::optional<SlotOutcome> RunLeased(ControlPlaneClient& client,
                                       const std::vector<LeasedTask>& tasks, int64_t lease_ms);
  int NextLeaseSize() const;
  // Posts the waiting results, if any, on another thread (after the previous
  // post ended); WaitFlushed() waits for that post.
  void FlushResults();
  void WaitFlushed();
  SlotOutcome RunLoop(ControlPlaneClient& client);
  void RunTask(ControlPlaneClient& client, const LeasedTask& task);
  // Queues a result for the next FlushResults (its payload is moved out).
  void ReportResult(const LeasedTask& task, runtime::Frame& answer, int64_t started_ms,
                    int64_t elapsed_ms);
  void ReportFailure(ControlPlaneClient& client, const LeasedTask& task,
                     const std::string& outcome, const std::string& error,
                     const std::string& traceback, int64_t started_ms, int64_t elapsed_ms);
  // A control-plane error on results/fail (`what` names the mini-batches):
  // a 409 is logged, unreachable stops the agent, anything else is logged.
  void HandleReportError(const std::string& what, const Error& error);
  // Ends the current worker; returns its exit description ("exited with code 3").
  std::string EndWorker(End how);
  void LogFailure(const FailureRecord& record);
  std::string StderrSince(uintmax_t offset) const;
  uintmax_t StderrSize() const;
  // score.py workers take whole files: their byte ranges become chunk files.
  bool TakesWholeFiles() const;
  // The slot's private folder for chunk files, made on first use.
  Result<std::filesystem::path> ChunkDir();

  SlotEnv env_;
  int process_;
  std::string name_;  // "node0/process001"
  std::unique_ptr<runtime::WorkerProcess> worker_;
  std::string last_start_error_;
  uintmax_t stderr_at_start_ = 0;  // size of the stderr log when the worker started
  double task_us_ewma_ = 0;         // recent run time of one mini-batch; 0: none yet
  std::vector<TaskResult> pending_results_;
  size_t pending_bytes_ = 0;
  std::unique_ptr<ControlPlaneClient> sender_;  // posts results beside the slot's thread
  std::future<void> flushing_;                  // the post in flight, if any
  std::filesystem::path chunk_dir_;             // empty until a chunk is needed
};

}  // namespace lote::agent
