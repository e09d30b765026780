// The `lote` binary: parses the command line and hands over to the libraries.
#include <CLI/CLI.hpp>

#include "cli/command_context.h"
#include "exe/agent_command.h"
#include "exe/serve_command.h"
#include "exe/worker_command.h"

int main(int argc, char** argv) {
  CLI::App app{"lote: batch endpoints on your own machines"};
  app.require_subcommand(1);
  app.fallthrough();  // -o/--query may follow the subcommand
  app.set_version_flag("--version", "lote 0.1.0");
  lote::cli::CommandContext ctx;
  lote::cli::AddAllCommands(app, ctx);
  lote::AddServeCommand(app, ctx);
  lote::AddAgentCommand(app, ctx);
  lote::AddWorkerCommand(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return ctx.exit_code;
}
