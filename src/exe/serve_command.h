// `lote serve`: runs the control plane until SIGTERM or SIGINT.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/command_context.h"

namespace lote {

void AddServeCommand(CLI::App& app, cli::CommandContext& ctx);

}  // namespace lote
