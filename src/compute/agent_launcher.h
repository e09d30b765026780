// Compute backends start agents ("lote agent …") for a job's nodes. The
// control plane never manages a cluster itself: `local` starts processes on
// this host; slurm and kubernetes backends will submit to their schedulers.
//
// Handles are opaque and never reused: a handle names one launch, whatever
// the operating system does with process ids. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"

namespace lote::compute {

struct AgentSpec {
  std::string server_url;
  std::string token;  // passed in the environment, never on the command line
  std::string job;
  int node = 0;
  std::string log_path;  // the agent's own stdout/stderr
};

using AgentHandle = uint64_t;

// How an agent ended, as data (callers never parse prose).
struct AgentExit {
  enum class Kind {
    kExited,  // exited on its own with `code`
    kKilled,  // ended by `signal`
    kLost,    // its handle is unknown or it vanished without a status
  };
  Kind kind = Kind::kLost;
  int code = 0;
  int signal = 0;
  // "exited with code 3", "killed by signal 9 (SIGKILL)", "was lost".
  std::string Describe() const;
};

class AgentLauncher {
 public:
  virtual ~AgentLauncher() = default;
  virtual Result<AgentHandle> Launch(const AgentSpec& spec) = 0;
  // nullopt while it runs. Once an exit has been returned the launcher forgets
  // the handle (and it forgets unpolled exits after a while); asking again
  // gives kLost.
  virtual std::optional<AgentExit> Poll(AgentHandle handle) = 0;
  // Asks the agent to stop and returns at once; the agent, its workers and
  // whatever they started are killed if they are not gone after a grace
  // period, even when stopped (SIGSTOP). Safe on an ended or unknown handle.
  virtual void Stop(AgentHandle handle) = 0;
};

// Starts agents as child processes of the control plane, each in its own
// process group, with no descriptor of the server's but stdin/stdout/stderr,
// and SIGTERM sent to them if the control plane dies.
// lote_binary: the lote executable (normally /proc/self/exe).
std::unique_ptr<AgentLauncher> MakeLocalLauncher(std::string lote_binary);

}  // namespace lote::compute
