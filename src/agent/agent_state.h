// What the threads of one agent share: whether (and why) the agent is
// stopping, and the process groups of the workers that are alive, so that a
// stop (SIGTERM, the control plane gone) kills every worker at once instead of
// waiting for each slot to notice.
//
// Thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>

namespace lote::agent {

class ControlPlaneClient;

class AgentState {
 public:
  bool stopping() const;
  // The exit code the first Stop() asked for; 0 while not stopping.
  int exit_code() const;
  std::string stop_reason() const;

  // The first call wins: records exit_code and reason, SIGKILLs every tracked
  // worker group, aborts every tracked client's request in flight, and wakes
  // every SleepFor(). Later calls do nothing.
  void Stop(int exit_code, const std::string& reason);

  // Sleeps up to d, or until Stop(). True when stopping.
  bool SleepFor(std::chrono::milliseconds d);

  // Tracks the process group of a worker its owner has not reaped yet (so the
  // id cannot have been reused). Untrack it before reaping. TrackWorker
  // returns false when the agent is already stopping: end the worker.
  bool TrackWorker(pid_t pgid);
  void UntrackWorker(pid_t pgid);

  void TrackClient(ControlPlaneClient* client);
  void UntrackClient(ControlPlaneClient* client);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int exit_code_ = 0;
  std::string reason_;
  std::set<pid_t> groups_;
  std::set<ControlPlaneClient*> clients_;
};

}  // namespace lote::agent
