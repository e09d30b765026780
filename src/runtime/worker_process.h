// One worker process and its two protocol pipes (docs/worker-protocol.md).
//
// Start() forks and execs argv in a new process group (the worker's pid is
// the group id), with the protocol pipes on fds 3 (agent → worker) and 4
// (worker → agent) named by LOTE_PROTOCOL_IN_FD / LOTE_PROTOCOL_OUT_FD,
// stdout and stderr appended to log files, stdin from /dev/null, and every
// other descriptor closed. The worker gets `parent_death_signal` when the
// *thread* that started it exits (Linux PR_SET_PDEATHSIG semantics), so keep
// the owning thread alive for as long as the worker runs.
//
// Kill() and the exit of the worker end its whole process group: whatever the
// worker started (and left in its group) dies with it. The destructor kills a
// worker that is still running.
//
// Thread-compatible: one owner thread calls every method. (To stop workers
// from another thread, signal the group with kill(-pid(), SIGKILL) while the
// owner has not reaped it yet; the agent keeps such a registry.)
#pragma once

#include <sys/types.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "runtime/frame.h"

namespace lote::runtime {

struct WorkerOptions {
  // argv[0] is looked up in PATH (the worker's, else the agent's) unless it
  // contains a '/'.
  std::vector<std::string> argv;
  // The worker's environment is the agent's, minus env_remove, plus env_extra
  // (LOTE_PROTOCOL_IN_FD/OUT_FD are always set by Start()).
  std::map<std::string, std::string> env_extra;
  std::vector<std::string> env_remove;
  // Opened in append mode (created 0644); empty means /dev/null.
  std::filesystem::path stdout_path, stderr_path;
  // Working directory; empty keeps the agent's.
  std::string cwd;
  int parent_death_signal = SIGTERM;
};

class WorkerProcess {
 public:
  // Errors: "cannot start worker '<argv0>': <reason>" when argv[0] cannot be
  // found or executed, a log file cannot be opened, or cwd does not exist.
  static Result<std::unique_ptr<WorkerProcess>> Start(const WorkerOptions& options);
  ~WorkerProcess();

  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  pid_t pid() const { return pid_; }  // also the process group id

  // Sends one frame (see WriteFrame). IsClosed() when the worker is gone.
  Status Send(const nlohmann::json& msg, std::string_view payload = {}, int timeout_ms = -1);
  // Receives one frame (see ReadFrame). IsTimeout() after timeout_ms;
  // IsClosed() at end of file, and also when the worker process has exited
  // though something it started still holds the pipe open.
  Result<Frame> Receive(int timeout_ms);

  // Closes the agent → worker pipe: a worker waiting for a message sees EOF.
  void CloseInput();

  // SIGKILL to the whole process group, then reaps the worker. No-op once
  // the worker has been reaped.
  void Kill();
  // Waits up to timeout_ms (< 0: forever) for the worker to exit on its own;
  // then kills what is left of its group and reaps it. True once reaped.
  bool Wait(int timeout_ms);
  // Wait(grace_ms), and Kill() if the worker is still running after it.
  void WaitOrKill(int grace_ms);

  bool reaped() const { return reaped_; }
  // "exited with code 1", "killed by signal 11 (SIGSEGV)", or "is running"
  // before the worker has been reaped.
  std::string ExitDescription() const;
  // The raw waitpid() status; meaningful once reaped().
  int wait_status() const { return wait_status_; }

 private:
  WorkerProcess() = default;
  bool TryReap();  // reaps when the worker has exited; true once reaped

  pid_t pid_ = -1;
  int to_worker_ = -1;    // write end, non-blocking
  int from_worker_ = -1;  // read end, non-blocking
  int pidfd_ = -1;        // readable once the worker exits; -1 if unsupported
  bool reaped_ = false;
  int wait_status_ = 0;
};

// "exited with code N" / "killed by signal N (SIGNAME)" for a waitpid status.
std::string DescribeWaitStatus(int status);

}  // namespace lote::runtime
