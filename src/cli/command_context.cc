#include "cli/command_context.h"

#include <iostream>

#include "cli/output_format.h"
#include "cli/query.h"

namespace lote::cli {

int ExitCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 2;
    case ErrorCode::kNotFound: return 3;
    case ErrorCode::kAlreadyExists: return 4;
    case ErrorCode::kFailedPrecondition: return 5;
    case ErrorCode::kUnauthenticated: return 6;
    case ErrorCode::kPermissionDenied: return 6;
    case ErrorCode::kPayloadTooLarge: return 2;
    case ErrorCode::kUnavailable: return 7;
    case ErrorCode::kIo: return 1;
    case ErrorCode::kInternal: return 1;
  }
  return 1;
}

Result<ApiClient*> CommandContext::Client() {
  if (!client_) {
    LOTE_ASSIGN_OR_RETURN(ClientOptions o, ResolveClientOptions());
    client_ = std::make_unique<ApiClient>(std::move(o));
  }
  return client_.get();
}

void CommandContext::Emit(const Result<nlohmann::json>& result) {
  if (!result) return Fail(result.error());
  // Ordered from here on: a multiselect hash keeps the keys in the order the
  // query names them, in every output format.
  EmitOrdered(*result);
}

void CommandContext::EmitOrdered(nlohmann::ordered_json value) {
  if (output == "none") return;  // as az: only the exit code matters
  auto format = ParseOutputFormat(output);
  if (!format) return Fail(format.error().UnderField("--output"));
  if (!query.empty()) {
    auto q = EvaluateQuery(query, value);
    if (!q) return Fail(q.error());
    value = *q;
  }
  if (value.is_null() && query.empty()) return;  // e.g. delete: nothing to print
  std::cout << FormatOutput(value, *format) << std::flush;
}

void CommandContext::Fail(const Error& error, const model::YamlDocument* doc) {
  std::string text = error.message();
  if (doc != nullptr) {
    text = doc->Describe(error);
  } else if (!error.field().empty()) {
    text = error.field() + ": " + text;
  }
  std::cerr << "lote: error: " << text << "\n";
  exit_code = ExitCodeFor(error.code());
}

void AddAllCommands(CLI::App& app, CommandContext& ctx) {
  app.add_option_function<std::string>(
         "-o,--output",
         [&ctx](const std::string& v) {
           ctx.output = v;
           ctx.output_given = true;
         },
         "Output format: json (default), yaml, tsv, table, none");
  app.add_option("--query", ctx.query, "JMESPath query applied to the result");
  AddComputeCommands(app, ctx);
  AddModelCommands(app, ctx);
  AddDataCommands(app, ctx);
  AddDatastoreCommands(app, ctx);
  AddEndpointCommands(app, ctx);
  AddBatchEndpointCommands(app, ctx);
  AddBatchDeploymentCommands(app, ctx);
  AddJobCommands(app, ctx);
}

}  // namespace lote::cli
