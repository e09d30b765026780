#include "exe/agent_command.h"

#include <cstdlib>
#include <iostream>
#include <memory>

#include "agent/agent.h"

namespace lote {

namespace {

int RunAgentCommand(agent::AgentOptions options) {
  const char* token = std::getenv("LOTE_TOKEN");
  if (token == nullptr || *token == '\0') {
    std::cerr << "lote agent: error: LOTE_TOKEN is not set: the agent reads its token from the "
                 "environment, never from the command line\n";
    return agent::kAgentExitError;
  }
  options.token = token;
  while (!options.server_url.empty() && options.server_url.back() == '/') {
    options.server_url.pop_back();
  }
  auto code = agent::RunAgent(options);
  if (!code) {
    const Error& e = code.error();
    std::cerr << "lote agent: error: " << (e.field().empty() ? "" : e.field() + ": ")
              << e.message() << "\n";
    return agent::kAgentExitError;
  }
  return *code;
}

}  // namespace

void AddAgentCommand(CLI::App& app, cli::CommandContext& ctx) {
  auto options = std::make_shared<agent::AgentOptions>();
  auto* cmd = app.add_subcommand(
      "agent", "Run the node agent of a job (started by the control plane's compute backend)");
  cmd->add_option("--server", options->server_url, "The control plane's URL")->required();
  cmd->add_option("--job", options->job, "The job to work for")->required();
  cmd->add_option("--node", options->node, "This node's index (0-based)")
      ->required()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--server-timeout", options->server_timeout_s,
                  "Seconds the control plane may be unreachable before the agent gives up "
                  "(default 30)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--cache-dir", options->cache_dir,
                  "With remote access: the node's cache of fetched models, code and inputs (default "
                  "$LOTE_AGENT_CACHE, else $XDG_CACHE_HOME/lote, else ~/.cache/lote)");
  cmd->footer(
      "The token comes from LOTE_TOKEN. Exit codes: 0 job finished, 1 error, 3 no worker could "
      "start, 4 control plane unreachable, 128+N on signal N.");
  cmd->callback([options, &ctx] { ctx.exit_code = RunAgentCommand(*options); });
}

}  // namespace lote
