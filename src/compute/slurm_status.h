// What Slurm's commands print about a job, read into data: the job id sbatch
// answers, squeue's and scontrol's lines, and how a finished job ended as an
// AgentExit. Pure functions (tests feed them Slurm's own output).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compute/agent_launcher.h"

namespace lote::compute {

struct SlurmJob {
  std::string id;
  std::string state;   // "RUNNING", "PENDING", "COMPLETED", "NODE_FAIL", …
  std::string nodes;   // "node1" ("" while pending, or "(null)")
  std::string reason;  // "Resources", "None", …
  std::optional<int> exit_code, exit_signal;  // scontrol's and sacct's ExitCode=code:signal
};

// `sbatch --parsable` prints "<id>" or "<id>;<cluster>".
std::optional<std::string> ParseSbatchId(std::string_view out);

// The lines of `squeue -h -o '%i|%T|%N|%r'`; malformed lines are skipped.
std::vector<SlurmJob> ParseSqueue(std::string_view out);

// `scontrol show job -o <id>`: one line of Key=Value fields.
std::optional<SlurmJob> ParseScontrolJob(std::string_view out);

// `sacct -n -P -X -o JobID,State,ExitCode,NodeList -j <id>`: the first line.
std::optional<SlurmJob> ParseSacct(std::string_view out);

// True while Slurm may still run the job (pending, running, completing,
// suspended, requeued, …).
bool SlurmJobAlive(std::string_view state);

// How a job that is no longer alive ended. `stop_requested`: lote canceled it
// itself, so a CANCELLED is the stop it asked for.
AgentExit SlurmJobExit(const SlurmJob& job, bool stop_requested);

}  // namespace lote::compute
