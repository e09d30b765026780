// lote endpoint invoke: start a batch job on an endpoint.
#include <iostream>

#include "cli/command_context.h"
#include "cli/set_args.h"
#include "cli/uploads.h"
#include "common/util.h"

namespace lote::cli {

namespace fs = std::filesystem;

namespace {

struct InvokeArgs {
  std::string name, type, deployment;
  std::string input_data, input_datastore, input_path, input_local_path, input, input_type;
  std::string output_datastore, output_path, job_name;
  std::vector<std::string> sets;
  std::optional<std::string> mini_batch_size;
  std::optional<int64_t> instance_count;
  bool stream = false;
  bool user_logs = false;
};

bool IsUrl(const std::string& s) { return s.starts_with("http://") || s.starts_with("https://"); }

// --input-type, as az takes it: a folder URL needs no trailing '/', and a
// local path must be what the type says.
Status ApplyInputType(InvokeArgs& a) {
  if (a.input_type.empty()) return {};
  if (a.input_type != "uri_folder" && a.input_type != "uri_file") {
    return InvalidArgument("--input-type must be uri_folder or uri_file, not '" + a.input_type + "'",
                           "--input-type");
  }
  const bool folder = a.input_type == "uri_folder";
  if (IsUrl(a.input_path)) {
    if (folder && !a.input_path.ends_with("/")) a.input_path += "/";
    if (!folder && a.input_path.ends_with("/")) {
      return InvalidArgument("--input-type uri_file but '" + a.input_path + "' names a folder",
                             "--input-type");
    }
  }
  if (!a.input_local_path.empty()) {
    std::error_code ec;
    bool is_dir = fs::is_directory(a.input_local_path, ec);
    if (fs::exists(a.input_local_path, ec) && is_dir != folder) {
      return InvalidArgument("--input-type " + a.input_type + " but '" + a.input_local_path +
                                 "' is a " + (is_dir ? "folder" : "file"),
                             "--input-type");
    }
  }
  return {};
}

// "azureml://datastores/<ds>/paths/<p>" -> {ds, p}; nullopt for other text.
Result<std::optional<std::pair<std::string, std::string>>> DatastoreUri(const std::string& uri,
                                                                         std::string_view flag) {
  constexpr std::string_view kPrefix = "azureml://datastores/";
  if (!uri.starts_with(kPrefix)) return std::nullopt;
  std::string rest = uri.substr(kPrefix.size());
  size_t slash = rest.find("/paths/");
  if (slash == std::string::npos || slash == 0) {
    return InvalidArgument(std::string(flag) + " '" + uri +
                               "' must have the form azureml://datastores/<datastore>/paths/<path>",
                           std::string(flag));
  }
  return std::make_pair(rest.substr(0, slash), rest.substr(slash + 7));
}

Result<nlohmann::json> BuildBody(InvokeArgs& a, ApiClient& client) {
  nlohmann::json body = nlohmann::json::object();
  std::string input = a.input;
  if (!input.empty()) {  // GA-style --input: a URL, an azureml: reference or a local path
    if (input.starts_with("azureml:") && !input.starts_with("azureml://")) a.input_data = input;
    else if (IsUrl(input) || input.starts_with("azureml://")) a.input_path = input;
    else a.input_local_path = input;
  }
  LOTE_TRY(ApplyInputType(a));
  int kinds = int(!a.input_data.empty()) + int(!a.input_local_path.empty()) +
              int(!a.input_path.empty() && a.input_datastore.empty()) + int(!a.input_datastore.empty());
  if (kinds != 1) {
    return InvalidArgument("give exactly one input: --input-data azureml:<name>:<version>, "
                           "--input-datastore azureml:<ds> --input-path <path>, --input-path <URL>, "
                           "or --input-local-path <dir|file>");
  }
  if (!a.input_data.empty()) {
    body["input"] = {{"data", a.input_data}};
  } else if (!a.input_datastore.empty()) {
    if (a.input_path.empty()) return InvalidArgument("--input-datastore needs --input-path <relative path>", "--input-path");
    std::string ds = a.input_datastore.starts_with("azureml:") ? a.input_datastore.substr(8) : a.input_datastore;
    body["input"] = {{"datastore", ds}, {"path", a.input_path}};
  } else if (!a.input_path.empty()) {
    if (!a.input_path.starts_with("http://") && !a.input_path.starts_with("https://") &&
        !a.input_path.starts_with("azureml://")) {
      return InvalidArgument("--input-path '" + a.input_path + "' alone must be an http(s) URL; "
                             "use --input-local-path for a local path or add --input-datastore", "--input-path");
    }
    body["input"] = {{"uri", a.input_path}};
  } else {
    fs::path local = a.input_local_path;
    std::error_code ec;
    if (!fs::exists(local, ec)) return NotFound("--input-local-path '" + a.input_local_path + "' does not exist");
    // Uploaded first, so this works against a remote server too.
    LOTE_ASSIGN_OR_RETURN(std::string rel, UploadToDatastore(client, "workspaceblobstore",
                                                             "LocalUpload/job-" + RandomHex(8), local));
    // A folder of its own (jobs/job_cleanup.h): removed once no job needs it.
    body["input"] = {{"datastore", "workspaceblobstore"}, {"path", rel}};
  }
  if (!a.input_type.empty()) body["input"]["type"] = a.input_type;  // checked again by the server
  nlohmann::json output = nlohmann::json::object();
  if (!a.output_datastore.empty()) {
    output["datastore"] = a.output_datastore.starts_with("azureml:") ? a.output_datastore.substr(8) : a.output_datastore;
  }
  LOTE_ASSIGN_OR_RETURN(auto out_uri, DatastoreUri(a.output_path, "--output-path"));
  if (out_uri) {
    if (output.contains("datastore")) {
      return InvalidArgument("--output-path azureml://datastores/… names its datastore: drop "
                             "--output-datastore", "--output-datastore");
    }
    output["datastore"] = out_uri->first;
    output["path"] = out_uri->second;
  } else if (!a.output_path.empty()) {
    output["path"] = a.output_path;
  }
  nlohmann::json set = nlohmann::json::object();
  for (const std::string& kv : a.sets) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return InvalidArgument("--set '" + kv + "' must be key=value", "--set");
    std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    if (key == "output_file_name") output["file_name"] = value;
    else set[key] = SetValue(value);
  }
  if (a.mini_batch_size) set["mini_batch_size"] = SetValue(*a.mini_batch_size);
  if (a.instance_count) set["compute.instance_count"] = *a.instance_count;
  if (!output.empty()) body["output"] = output;
  if (!set.empty()) body["set"] = set;
  if (!a.deployment.empty()) body["deployment"] = a.deployment;
  if (!a.job_name.empty()) body["name"] = a.job_name;
  return body;
}

}  // namespace

void AddInvokeCommand(CLI::App& endpoint, CommandContext& ctx) {
  auto a = std::make_shared<InvokeArgs>();
  auto* c = endpoint.add_subcommand("invoke", "Start a batch scoring job on the endpoint");
  c->add_option("-n,--name", a->name, "Endpoint name")->required();
  c->add_option("-t,--type", a->type, "Endpoint type (batch)");
  c->add_option("--deployment-name,--deployment", a->deployment, "Deployment to run (default: traffic 100)");
  c->add_option("--input-data", a->input_data, "Registered data: azureml:<name>:<version>");
  c->add_option("--input-datastore", a->input_datastore, "Datastore of --input-path: azureml:<name>");
  c->add_option("--input-path", a->input_path, "URL, or a path in --input-datastore");
  c->add_option("--input-local-path", a->input_local_path, "Local file or folder (uploaded first)");
  c->add_option("-i,--input", a->input,
                "azureml:<data>@latest | azureml:<data>:<v> | azureml://datastores/<ds>/paths/<p> | "
                "URL | local path");
  c->add_option("--input-type", a->input_type, "uri_folder or uri_file (as az; a folder URL needs no trailing /)");
  c->add_option("--output-datastore", a->output_datastore, "Output datastore: azureml:<name>");
  c->add_option("--output-path", a->output_path,
                "Output folder: azureml://datastores/<ds>/paths/<p>, or a path in --output-datastore");
  c->add_option("--set", a->sets, "Override: output_file_name=…, retry_settings.max_retries=…, "
                                  "retry_settings.timeout=…, error_threshold=…, logging_level=…, "
                                  "max_concurrency_per_instance=…, output_format=csv|parquet|jsonl, "
                                  "passthrough_columns=a,b (or *)");
  c->add_option("--mini-batch-size", a->mini_batch_size, "Files per mini-batch, or a size such as 64MB");
  c->add_option("--instance-count", a->instance_count, "Nodes for this job");
  c->add_option("--job-name", a->job_name, "The job's name (default: <endpoint>-<time>-<random>)");
  c->add_flag("--stream", a->stream, "Then follow the job as `lote job stream` does (exit 0 only when it Completed)");
  c->add_flag("--user-logs", a->user_logs, "With --stream: also print what the scoring scripts print");
  c->callback([a, &ctx] {
    if (a->user_logs && !a->stream) {
      return ctx.Fail(InvalidArgument("--user-logs is for --stream (or `lote job stream --user-logs`)",
                                      "--user-logs"));
    }
    if (!a->type.empty() && a->type != "batch") {
      return ctx.Fail(InvalidArgument("lote serves batch endpoints only: --type must be 'batch'", "--type"));
    }
    auto client = ctx.Client();
    if (!client) return ctx.Fail(client.error());
    auto body = BuildBody(*a, **client);
    if (!body) return ctx.Fail(body.error());
    auto job = (*client)->Post("/api/v1/endpoints/" + EncodePath(a->name) + "/jobs", *body);
    if (!a->stream || !job) return ctx.Emit(job);
    std::cerr << "lote: job " << (*job)["name"].get<std::string>() << " started\n";
    StreamJob((*job)["name"], ctx, a->user_logs);
  });
}

}  // namespace lote::cli
