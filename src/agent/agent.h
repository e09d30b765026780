// The node agent (`lote agent --server URL --job J --node I`): fetches the
// job's agent-config, runs max_concurrency_per_instance worker slots (one
// thread and one worker process each, see worker_slot.h) that lease
// mini-batches from the control plane until it says "finished", and reports
// every result and failure back (docs/agent-api.md).
//
// Exit codes: see agent_options.h. Errors (Result's error) are for what stops
// the agent before any work: bad options, an agent-config the control plane
// refused or the agent cannot run, log directories it cannot create.
#pragma once

#include <memory>
#include <string>

#include "agent/agent_options.h"
#include "agent/agent_state.h"
#include "common/status.h"

namespace lote::agent {

class Agent {
 public:
  explicit Agent(AgentOptions options);
  ~Agent();

  // Runs the agent to its end; returns the exit code. Call once.
  Result<int> Run();
  // Thread-safe, callable any time (also before or after Run()): kills every
  // worker's process group at once and makes Run() return exit_code soon.
  void Stop(int exit_code, const std::string& reason);

 private:
  AgentOptions options_;
  AgentState state_;
};

// Runs an Agent in this process until it ends, turning SIGTERM and SIGINT
// into Stop(128 + signal): the workers' process groups are killed and the
// result is 143 (SIGTERM) or 130 (SIGINT). Ignores SIGPIPE for the process.
// Blocks SIGTERM and SIGINT in the calling thread while it runs (threads it
// starts inherit that); the caller's mask is restored on return.
Result<int> RunAgent(const AgentOptions& options);

}  // namespace lote::agent
