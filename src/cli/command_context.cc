#include "cli/command_context.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <iostream>

#include "cli/output_format.h"
#include "cli/query.h"
#include "model/names.h"

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

namespace {

// "endpoint 'taxi-batc' not found" -> {"endpoint", "taxi-batc"}.
std::optional<std::pair<std::string, std::string>> MissingResource(const std::string& message) {
  size_t q1 = message.find(" '");
  if (q1 == std::string::npos || !message.ends_with("' not found")) return std::nullopt;
  std::string name = message.substr(q1 + 2, message.size() - q1 - 2 - 11);
  if (name.find('\'') != std::string::npos) return std::nullopt;
  return std::make_pair(message.substr(0, q1), name);
}

}  // namespace

std::string CommandContext::NearNames(const Error& error) {
  if (error.code() != ErrorCode::kNotFound || !client_) return "";
  auto missing = MissingResource(error.message());
  if (!missing) return "";
  static const std::map<std::string, std::string> kCollections = {
      {"endpoint", "/api/v1/endpoints"}, {"compute", "/api/v1/computes"}, {"job", "/api/v1/jobs"},
      {"datastore", "/api/v1/datastores"}, {"model", "/api/v1/models"}, {"data asset", "/api/v1/data"}};
  auto it = kCollections.find(missing->first);
  if (it == kCollections.end()) return "";
  std::string name = missing->second;
  if (missing->first == "model" || missing->first == "data asset") name = name.substr(0, name.find(':'));
  auto list = client_->Get(it->second);
  if (!list || !list->is_array()) return "";
  std::vector<std::string> names;
  for (const auto& item : *list) {
    if (item.is_object() && item.contains("name") && item["name"].is_string()) names.push_back(item["name"]);
  }
  if (std::find(names.begin(), names.end(), name) != names.end()) return "";  // the version was wrong
  std::vector<std::string_view> views(names.begin(), names.end());
  return model::DidYouMean(name, views);
}

void CommandContext::Fail(const Error& error, const model::YamlDocument* doc) {
  std::string text = error.message() + NearNames(error);
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
  // Client commands find a local server through its home; --home is
  // LOTE_HOME for this one command (serve and agent have their own).
  app.add_option_function<std::string>(
      "--home", [](const std::string& v) { ::setenv("LOTE_HOME", v.c_str(), 1); },
      "The local server's home (default $LOTE_HOME, else ~/.lote)");
  AddComputeCommands(app, ctx);
  AddModelCommands(app, ctx);
  AddDataCommands(app, ctx);
  AddDatastoreCommands(app, ctx);
  AddEndpointCommands(app, ctx);
  AddBatchEndpointCommands(app, ctx);
  AddBatchDeploymentCommands(app, ctx);
  AddJobCommands(app, ctx);
  AddTokenCommands(app, ctx);
  AddDashboardCommand(app, ctx);
  AddSystemCommands(app, ctx);
}

}  // namespace lote::cli
