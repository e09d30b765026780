// What every CLI command shares: output options, the server connection, and
// the one place results and errors are printed and turned into exit codes.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/api_client.h"
#include "common/status.h"
#include "model/yaml_doc.h"

namespace lote::cli {

// The one mapping from lote's error codes to process exit codes.
int ExitCodeFor(ErrorCode code);

class CommandContext {
 public:
  std::string output = "json";  // -o/--output
  std::string query;            // --query
  bool output_given = false;    // -o was on the command line
  int exit_code = 0;

  // Connects on first use.
  Result<ApiClient*> Client();
  // fn(client) with the connected client, or why there is none, e.g.
  //   ctx.Emit(ctx.Call([&](ApiClient& c) { return c.Get(path); }));
  template <typename Fn>
  Result<nlohmann::json> Call(Fn&& fn) {
    LOTE_ASSIGN_OR_RETURN(ApiClient * client, Client());
    return fn(*client);
  }

  // Prints `result` (through --query and -o) or its error; sets exit_code.
  void Emit(const Result<nlohmann::json>& result);
  // Emit for a value whose key order is the one to print.
  void EmitOrdered(nlohmann::ordered_json value);
  // Prints an error; when `doc` is given and the error names a field, the
  // message carries the YAML file and line.
  void Fail(const Error& error, const model::YamlDocument* doc = nullptr);

 private:
  // " (did you mean 'x'?)" for a "<kind> '<name>' not found" error when the
  // server has a near name of that kind; "" otherwise.
  std::string NearNames(const Error& error);
  std::unique_ptr<ApiClient> client_;
};

// Command groups, one file each.
void AddComputeCommands(CLI::App& app, CommandContext& ctx);
void AddModelCommands(CLI::App& app, CommandContext& ctx);
void AddDataCommands(CLI::App& app, CommandContext& ctx);
void AddDatastoreCommands(CLI::App& app, CommandContext& ctx);
void AddEndpointCommands(CLI::App& app, CommandContext& ctx);
void AddInvokeCommand(CLI::App& endpoint, CommandContext& ctx);
void AddJobCommands(CLI::App& app, CommandContext& ctx);
void AddBatchEndpointCommands(CLI::App& app, CommandContext& ctx);
void AddBatchDeploymentCommands(CLI::App& app, CommandContext& ctx);
void AddTokenCommands(CLI::App& app, CommandContext& ctx);
void AddDashboardCommand(CLI::App& app, CommandContext& ctx);
void AddSystemCommands(CLI::App& app, CommandContext& ctx);

// Prints job `name`'s log live, with its progress, until it ends; the exit
// code is 0 only when it Completed (lote job stream).
void StreamJob(const std::string& name, CommandContext& ctx, bool user_logs = false);

// Registers every resource command on `app` (serve is added by the binary).
void AddAllCommands(CLI::App& app, CommandContext& ctx);

}  // namespace lote::cli
