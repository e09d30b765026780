// The `lote` binary: parses the command line and hands over to the libraries.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "cli/command_context.h"
#include "cli/help_text.h"
#include "exe/agent_command.h"
#include "exe/parquet_command.h"
#include "exe/serve_command.h"
#include "exe/usage.h"
#include "exe/worker_command.h"

namespace {

// Options whose values are themselves options ("--sbatch-arg --gres=gpu:1"):
// CLI11 would read the value as an option of its own, so the pair is joined
// into "--sbatch-arg=--gres=gpu:1" first.
std::vector<std::string> JoinDashValues(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      out.insert(out.end(), args.begin() + static_cast<long>(i), args.end());
      break;
    }
    if (args[i] == "--sbatch-arg" && i + 1 < args.size()) {
      out.push_back(args[i] + "=" + args[i + 1]);
      ++i;
      continue;
    }
    out.push_back(args[i]);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lote: batch endpoints on your own machines"};
  app.name("lote");
  app.require_subcommand(0, 1);
  app.fallthrough();  // -o/--query may follow the subcommand
  app.set_version_flag("--version", "lote 0.1.0");
  lote::cli::CommandContext ctx;
  lote::cli::AddAllCommands(app, ctx);
  lote::AddServeCommand(app, ctx);
  lote::AddAgentCommand(app, ctx);
  lote::AddWorkerCommand(app, ctx);
  lote::AddParquetCommand(app, ctx);
  lote::cli::AddCompletionCommand(app);
  lote::cli::AddHelpFooters(app);
  int usage = lote::ParseCommandLine(app, JoinDashValues(argc, argv));
  return usage >= 0 ? usage : ctx.exit_code;
}
