// `lote parquet decode FILE`: a Parquet file's rows (or some row groups, some
// columns) as CSV on stdout (parquet/csv_export.h). The Python runner's
// no-code driver reads Parquet through it, as pandas here has no Parquet
// engine (docs/parquet.md, "The Python runner"). Hidden from the help: a
// tool for lote's own processes, though safe by hand.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/command_context.h"

namespace lote {

void AddParquetCommand(CLI::App& app, cli::CommandContext& ctx);

}  // namespace lote
