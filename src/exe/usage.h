// Usage errors as az gives them: a bare group prints its help (exit 0); an
// unknown subcommand or option names the closest one ("did you mean") and
// exits 2, as do all other command-line errors (docs/cli.md).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace lote {

// Parses `args` (argv[0] first) with `app`, which runs the chosen command's
// callback. Returns the exit code for a usage error or a bare group, or -1
// when a command ran (its own exit code then stands).
int ParseCommandLine(CLI::App& app, std::vector<std::string> args);

}  // namespace lote
