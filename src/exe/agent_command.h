// `lote agent`: the node agent a compute backend starts for each node of a
// job. The token comes from LOTE_TOKEN, never from the command line.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/command_context.h"

namespace lote {

void AddAgentCommand(CLI::App& app, cli::CommandContext& ctx);

}  // namespace lote
