// Compute backends start agents ("lote agent …") for a job's nodes. The
// control plane never manages a cluster itself: `local` starts processes on
// this host; slurm and kubernetes backends will submit to their schedulers.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace lote::compute {

struct AgentSpec {
  std::string server_url;
  std::string token;  // passed in the environment, never on the command line
  std::string job;
  int node = 0;
  std::string log_path;  // the agent's own stdout/stderr
};

class AgentLauncher {
 public:
  virtual ~AgentLauncher() = default;
  // Returns a handle for Poll/Stop.
  virtual Result<int> Launch(const AgentSpec& spec) = 0;
  // nullopt while running; else how it ended ("exited with code 0").
  virtual std::optional<std::string> Poll(int handle) = 0;
  // Kills the agent's process group; safe on an ended agent.
  virtual void Stop(int handle) = 0;
};

// Starts agents as child processes of the control plane, each in its own
// process group, with SIGTERM sent to them if the control plane dies.
// agent_argv0: the lote binary (normally /proc/self/exe).
std::unique_ptr<AgentLauncher> MakeLocalLauncher(std::string lote_binary);

}  // namespace lote::compute
