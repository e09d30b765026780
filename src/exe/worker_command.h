// `lote worker`: the native C++ worker that `lote agent` starts for no-code
// XGBoost scoring. It speaks docs/worker-protocol.md on the descriptors named
// by LOTE_PROTOCOL_IN_FD / LOTE_PROTOCOL_OUT_FD; stdout and stderr are the
// job's logs.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/command_context.h"

namespace lote {

void AddWorkerCommand(CLI::App& app, cli::CommandContext& ctx);

}  // namespace lote
