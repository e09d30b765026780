// Runs a short-lived command (sbatch, squeue, scancel, …) with a deadline and
// collects what it prints. The control plane's threads call it, so it never
// waits past the deadline: a command that overstays is killed with its
// process group.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace lote::compute {

struct CommandOptions {
  std::chrono::milliseconds timeout{30'000};
  // "NAME=value" added to (or replacing in) the server's environment.
  std::vector<std::string> env;
  // Each of stdout and stderr is kept up to this many bytes; the rest is read
  // and dropped.
  size_t max_output = 1 << 20;
};

struct CommandResult {
  int exit_code = -1;  // -1 when ended by a signal
  int signal = 0;
  std::string out, err;
  bool ok() const { return exit_code == 0; }
  // The command's own message: stderr, else stdout, trimmed, one line per
  // line, at most 2 KB ("sbatch: error: invalid partition specified: x").
  std::string Message() const;
};

// NotFound when argv[0] is not an executable on PATH; Unavailable when it ran
// past the deadline (and was killed); IoError when it could not be started.
// A command that ran and failed is a CommandResult with its exit code.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv, const CommandOptions& options = {});

}  // namespace lote::compute
