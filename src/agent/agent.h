// The node agent (`lote agent --server URL --job J --node I`): fetches the
// job's agent-config, runs max_concurrency_per_instance worker slots (one
// thread and one worker process each, see worker_slot.h) that lease
// mini-batches from the control plane until it says "finished", and reports
// every result and failure back (docs/agent-api.md).
//
// With remote access (docs/agent-api.md, "Access") it first fetches the
// job's model, code and runner into the node cache (agent/remote_run.h),
// fetches each mini-batch's items before its worker runs it, and ships its
// logs to the control plane while it runs and once more before it exits.
//
// Exit codes: see agent_options.h. Errors (Result's error) are for what stops
// the agent before any work: bad options, an agent-config the control plane
// refused or the agent cannot run, log directories it cannot create,
// artifacts it cannot fetch or that fail their hash.
#pragma once

#include <memory>
#include <string>

#include <optional>

#include "agent/agent_config.h"
#include "agent/agent_logs.h"
#include "agent/agent_options.h"
#include "agent/agent_state.h"
#include "agent/control_plane_client.h"
#include "agent/remote_run.h"
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
  // After the config: fetches what remote access needs, then runs the slots.
  Result<int> RunWorkers(AgentConfig& config, const NodeLogLayout& layout, const std::optional<RemoteRun>& remote,
                         SysLog& log);

  AgentOptions options_;
  AgentState state_;
};

// The control-plane client options of an agent (state: the agent's, or
// nullptr for a client that must outlive a stop).
ControlPlaneOptions ClientOptions(const AgentOptions& options, AgentState* state);

// Runs an Agent in this process until it ends, turning SIGTERM and SIGINT
// into Stop(128 + signal): the workers' process groups are killed and the
// result is 143 (SIGTERM) or 130 (SIGINT). Ignores SIGPIPE for the process.
// Blocks SIGTERM and SIGINT in the calling thread while it runs (threads it
// starts inherit that); the caller's mask is restored on return.
Result<int> RunAgent(const AgentOptions& options);

}  // namespace lote::agent
