// Compute backends start agents ("lote agent …") for a job's nodes. The
// control plane never manages a cluster itself: `local` starts processes on
// this host, `slurm` submits batch jobs to a Slurm cluster (docs/compute.md).
// A LauncherRegistry holds one launcher per compute type and is itself the
// launcher the job engine sees.
//
// Handles are opaque and never reused: a handle names one launch, whatever
// the operating system does with process ids. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::compute {

// What a Slurm compute adds to `sbatch` (docs/compute.md).
struct SlurmSettings {
  std::string partition, account, time_limit;  // empty: Slurm's default
  std::vector<std::string> sbatch_args;         // after lote's own options: they win
  std::string agent_binary;                     // lote on the nodes; empty: the server's own path
};

// The compute a job's agents run on, as recorded in the job when it was
// created (a later change of the compute does not move a running job).
struct ComputeTarget {
  std::string name;
  std::string type = "local";  // "local" | "slurm"
  SlurmSettings slurm;
};

// From a normalized compute document (model::NormalizeCompute); a document
// without a type is local.
Result<ComputeTarget> ParseComputeTarget(const nlohmann::json& doc);
nlohmann::json ComputeTargetJson(const ComputeTarget& target);

struct AgentSpec {
  ComputeTarget compute;
  std::string server_url;
  std::string token;  // passed in the environment, never on the command line
  std::string job;
  int node = 0;
  std::string log_path;  // the agent's own stdout/stderr, where the launcher can write it
};

using AgentHandle = uint64_t;

// How an agent ended, as data (callers never parse prose).
struct AgentExit {
  enum class Kind {
    kExited,      // exited on its own with `code`
    kKilled,      // ended by `signal`
    kLost,        // ended by its infrastructure, not by its work: node down,
                  // preempted, canceled outside lote, vanished, handle unknown
    kNotStarted,  // the launch itself failed (`detail` says why); retrying the same will not help
  };
  Kind kind = Kind::kLost;
  int code = 0;
  int signal = 0;
  std::string detail;  // the backend's words: "Slurm state NODE_FAIL", sbatch's error
  // "exited with code 3", "killed by signal 9 (SIGKILL)", "was lost (Slurm
  // state NODE_FAIL)", "could not be started: sbatch: error: …".
  std::string Describe() const;
};

// Where an agent runs, for `lote job show`: {"id": "slurm job 1234" | "pid
// 4711", "host": "node1" | "", "state": "PENDING (Resources)" | "running"}.
struct AgentPlace {
  std::string id, host, state;
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
  // Where the agent runs now (empty fields while not known).
  virtual AgentPlace Where(AgentHandle handle) = 0;
};

// One launcher per compute type; Launch() picks by spec.compute.type and the
// handles it returns are its own (never two launchers' handles mixed up).
class LauncherRegistry final : public AgentLauncher {
 public:
  LauncherRegistry();
  ~LauncherRegistry() override;
  void Add(std::string type, std::unique_ptr<AgentLauncher> launcher);
  bool Has(const std::string& type) const;

  // FailedPrecondition for a compute type with no launcher.
  Result<AgentHandle> Launch(const AgentSpec& spec) override;
  std::optional<AgentExit> Poll(AgentHandle handle) override;
  void Stop(AgentHandle handle) override;
  AgentPlace Where(AgentHandle handle) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Starts agents as child processes of the control plane, each in its own
// process group, with no descriptor of the server's but stdin/stdout/stderr,
// and SIGTERM sent to them if the control plane dies.
// lote_binary: the lote executable (normally /proc/self/exe).
std::unique_ptr<AgentLauncher> MakeLocalLauncher(std::string lote_binary);

// The programs the Slurm launcher runs (names on PATH, or paths: tests put
// fakes here) and how often it asks Slurm about its agents.
struct SlurmTools {
  std::string sbatch = "sbatch", squeue = "squeue", scontrol = "scontrol", scancel = "scancel",
              sacct = "sacct";
  int poll_interval_ms = 2000;
  int command_timeout_ms = 30'000;
  // A submitted job that squeue, scontrol and sacct all stop knowing is lost
  // after this long.
  int missing_grace_ms = 10'000;
};

// Submits each agent as a one-node Slurm batch job ("lote-<job>-node<N>") with
// `sbatch`, watches it with squeue/scontrol (sacct once Slurm forgot it), and
// cancels it with scancel. Submissions and cancels run on the launcher's own
// thread, never on the caller's. The token reaches the agent through the job's
// environment (sbatch exports the submitter's), never its command line.
// lote_binary: the agent's program where a compute names none.
std::unique_ptr<AgentLauncher> MakeSlurmLauncher(std::string lote_binary, SlurmTools tools = {});

// Asks Slurm whether a job with these settings could be submitted (`sbatch
// --test-only`): InvalidArgument with Slurm's own message ("invalid partition
// specified: x") when not, FailedPrecondition when sbatch is not installed.
Status CheckSlurmSettings(const SlurmSettings& settings, const SlurmTools& tools = {});

}  // namespace lote::compute
