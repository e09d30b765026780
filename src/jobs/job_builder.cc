#include "jobs/job_builder.h"

#include <ctime>
#include <thread>

#include "common/executable.h"
#include "common/util.h"
#include "compute/agent_launcher.h"
#include "jobs/agent_access.h"
#include "jobs/invoke_request.h"
#include "jobs/output_convert.h"
#include "model/specs.h"
#include "native/mlmodel.h"
#include "native/torch_module.h"
#include "storage/beneath.h"
#include "storage/http_fetch.h"
#include "storage/safe_path.h"

namespace lote::jobs {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string NewJobName(const std::string& endpoint) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return endpoint + "-" + buf + "-" + RandomHex(3);
}

Result<json> PickDeployment(const json& endpoint, const std::string& wanted) {
  std::string name = wanted;
  if (name.empty()) {
    for (auto& [dep, pct] : endpoint["traffic"].items()) {
      if (pct == 100) name = dep;
    }
    if (name.empty()) {
      return FailedPrecondition("endpoint '" + endpoint["name"].get<std::string>() +
                                "' has no deployment with traffic 100; set one with `lote endpoint "
                                "update --traffic <deployment>:100` or pass --deployment-name");
    }
  }
  for (const json& d : endpoint["deployments"]) {
    if (d["name"] == name) return d;
  }
  return NotFound("deployment '" + name + "' not found in endpoint '" +
                  endpoint["name"].get<std::string>() + "'", "deployment");
}

// The job's input: {"kind": "path", "path": "/real/path", "root", "rel",
// "datastore"} or {"kind": "url", "url": …}.
Result<json> ResolveInput(const JobBuildContext& ctx, const json& in) {
  // An input that cannot be fetched is a bad request, not an unavailable lote server.
  auto bad_input = [](const Error& e) {
    ErrorCode code = e.code() == ErrorCode::kNotFound ? e.code() : ErrorCode::kInvalidArgument;
    return Error(code, e.message(), "input");
  };
  const storage::UrlFetchOptions fetch{
      .policy = ctx.url_policy, .limits = storage::UrlLimits::ForRequest(), .canceled = {}};
  if (in.contains("uri")) {
    // Checked now, with tight timeouts, so a wrong URL is refused before any job exists.
    std::string url = in["uri"];
    if (url.ends_with("/")) {
      auto listed = storage::ListUrlFolder(url, fetch);
      if (!listed) return bad_input(listed.error());
    } else if (auto st = storage::CheckUrl(url, fetch); !st) {
      return bad_input(st.error());
    }
    return json{{"kind", "url"}, {"url", url}, {"description", url}};
  }
  std::string datastore, rel;
  std::string description;
  if (in.contains("data")) {
    std::string ref = in["data"].get<std::string>();
    LOTE_ASSIGN_OR_RETURN(auto mref, model::ParseModelRef(ref));  // same name:version grammar
    auto asset = ctx.registry->GetData(mref.name, mref.version);
    if (!asset) return asset.error().UnderField("input.data");
    description = (*asset)["id"];
    if (!asset->contains("datastore")) {
      std::string url = (*asset)["path"];
      if (auto st = ctx.url_policy.CheckUrl(url); !st) return bad_input(st.error());
      return json{{"kind", "url"}, {"url", url}, {"description", description}};
    }
    datastore = (*asset)["datastore"];
    rel = (*asset)["relative_path"];
  } else {
    datastore = in.value("datastore", "");
    if (datastore.starts_with("azureml:")) datastore = datastore.substr(8);
    rel = in.value("path", "");
    description = "azureml://datastores/" + datastore + "/paths/" + rel;
  }
  auto ds = ctx.registry->OpenDatastore(datastore);
  if (!ds) return ds.error().UnderField("input");
  auto norm = storage::NormalizeRelativePath(rel);
  if (!norm) return norm.error().WithContext("datastore '" + datastore + "'").UnderField("input");
  auto info = ds->Stat(*norm);
  if (!info && info.error().code() == ErrorCode::kNotFound) {
    return NotFound("input '" + rel + "' does not exist in datastore '" + datastore + "'", "input");
  }
  if (!info) return info.error().UnderField("input");
  if (info->type == storage::EntryType::kDir) {
    // What planning will read: a link in the folder that leads out refuses
    // the invoke now, naming it (a dangling link is skipped, as planning does).
    // One pass that keeps nothing: a folder of millions of files costs the
    // invoke no memory (planning lists it again, off the request thread).
    size_t count = 0;
    std::optional<Error> refused;
    Status listed = ds->ForEach(*norm, [&](storage::DirEntry&& e) {
      ++count;
      if (e.error && e.error->code() != ErrorCode::kNotFound) {
        refused = e.error->WithContext("input folder '" + rel + "'").UnderField("input");
        return false;
      }
      return true;
    });
    if (!listed) return listed.error().UnderField("input");
    if (refused) return *refused;
    if (count == 0) {
      return InvalidArgument("input folder '" + rel + "' in datastore '" + datastore + "' is empty", "input");
    }
  } else if (info->type != storage::EntryType::kFile) {
    return InvalidArgument("input '" + rel + "' in datastore '" + datastore + "' is neither a file nor a folder",
                           "input");
  }
  return json{{"kind", "path"},
              {"path", info->resolved.string()},
              {"root", ds->root().string()},
              {"rel", *norm},
              {"datastore", datastore},
              {"description", description}};
}

// Where the job writes: checked beneath the datastore; made later (MakeOutputDir).
struct OutputPlace {
  std::string datastore;
  std::string rel;  // normalized
};

Result<OutputPlace> CheckOutput(const JobBuildContext& ctx, const std::string& datastore, const std::string& rel,
                                const std::string& file_name) {
  auto ds = ctx.registry->OpenDatastore(datastore);
  if (!ds) return ds.error().UnderField("output");
  auto norm = storage::NormalizeRelativePath(rel);
  if (!norm) return norm.error().WithContext("datastore '" + datastore + "'").UnderField("output");
  const std::string file_rel = norm->empty() ? file_name : *norm + "/" + file_name;
  auto existing = ds->Stat(file_rel);
  if (existing) {
    return AlreadyExists("Output already exists: '" + file_name + "' at azureml://datastores/" + datastore +
                         "/paths/" + rel + "; choose another --output-path or output_file_name",
                         "output");
  }
  // NotFound is the good answer; anything else (a link that leads out on
  // the way, a file where a folder should be) refuses the output.
  if (existing.error().code() != ErrorCode::kNotFound) return existing.error().UnderField("output");
  return OutputPlace{datastore, *norm};
}

// How the job's agents reach its model, code and input (jobs/agent_access.h).
Result<AgentAccess> AccessFor(const JobBuildContext& ctx, const json& compute, const json& input) {
  std::optional<AccessMode> override_mode;
  const std::string setting = compute.value("agent_access", std::string("auto"));
  if (setting != "auto") {
    auto mode = ParseAccessMode(setting);
    if (!mode) return mode.error().WithContext("compute '" + compute.value("name", std::string()) + "'");
    override_mode = *mode;
  }
  bool mounted = false;
  if (input.value("kind", std::string()) == "path" && input.contains("datastore")) {
    LOTE_ASSIGN_OR_RETURN(json ds, ctx.registry->GetDatastore(input["datastore"].get<std::string>()));
    mounted = ds.value("mounted_on_nodes", false);
  }
  return ChooseAgentAccess(compute.value("type", std::string("local")), mounted, override_mode);
}

// The Python that runs a deployment: the server's (LOTE_PYTHON, else
// python3) unless the deployment names one in environment.python. An
// Azure environment's image or conda_file never picks one: lote builds no
// environments, so switching interpreters on them would only be an accident.
struct PythonChoice {
  std::string python;
  std::string source;  // "environment.python" or "server"
};

PythonChoice ChoosePython(const JobBuildContext& ctx, const json& dep) {
  const json& env = dep["environment"];
  if (env.is_object() && env.contains("python") && env["python"].is_string()) {
    return {env["python"].get<std::string>(), "environment.python"};
  }
  return {ctx.default_python.empty() ? std::string("python3") : ctx.default_python, "server"};
}

// What the job document says about the interpreter before any worker ran:
// the name asked for, where the server finds it, and why it was chosen.
json InterpreterRecord(const PythonChoice& choice) {
  json rec = {{"python", choice.python}, {"source", choice.source}};
  const char* path_var = std::getenv("PATH");
  auto found = FindExecutable(choice.python, path_var ? path_var : "");
  if (found) rec["path"] = *found;
  return rec;
}

}  // namespace

Result<json> BuildJob(const JobBuildContext& ctx, const std::string& endpoint_name,
                      const json& request, const std::string& deployment_override) {
  LOTE_ASSIGN_OR_RETURN(json endpoint, ctx.registry->GetEndpoint(endpoint_name));
  std::string wanted = deployment_override.empty() ? request.value("deployment", "") : deployment_override;
  LOTE_ASSIGN_OR_RETURN(json dep, PickDeployment(endpoint, wanted));

  // Overrides go through the deployment's own validation, so they are checked alike.
  json set = request.value("set", json::object());
  json output = request.value("output", json::object());
  if (output.contains("file_name")) set["output_file_name"] = output["file_name"];
  LOTE_ASSIGN_OR_RETURN(json overridden, ApplyOverrides(dep, set));
  auto effective = model::NormalizeDeployment(overridden);
  if (!effective) return effective.error().UnderField("set");
  dep = *effective;

  // instance_count may not exceed the compute's maximum, per job either.
  LOTE_ASSIGN_OR_RETURN(std::string compute_name,
                        model::ParseComputeRef(dep["compute"]["target"].get<std::string>()));
  LOTE_ASSIGN_OR_RETURN(json compute, ctx.registry->GetCompute(compute_name));
  LOTE_ASSIGN_OR_RETURN(compute::ComputeTarget target, compute::ParseComputeTarget(compute));
  target.name = compute_name;
  if (dep["compute"]["instance_count"].get<int64_t>() > compute["max_instances"].get<int64_t>()) {
    return InvalidArgument("instance_count " + dep["compute"]["instance_count"].dump() +
                           " is above compute '" + compute_name + "' max_instances " +
                           compute["max_instances"].dump(), "set.instance_count");
  }

  LOTE_ASSIGN_OR_RETURN(json input, ResolveInput(ctx, request.at("input")));
  LOTE_ASSIGN_OR_RETURN(AgentAccess access, AccessFor(ctx, compute, input));

  std::string name = request.contains("name") ? request["name"].get<std::string>() : NewJobName(endpoint_name);
  std::string out_ds = output.value("datastore", "workspaceblobstore");
  if (out_ds.starts_with("azureml:")) out_ds = out_ds.substr(8);
  std::string out_rel = output.value("path", "batch-outputs/" + name);
  // Deployments stored before output_format existed write CSV.
  const std::string output_format = dep.value("output_format", std::string("csv"));
  LOTE_ASSIGN_OR_RETURN(OutputFormat format, ParseOutputFormat(output_format));
  const std::string file_name = OutputFileNameFor(dep["output_file_name"], format);
  LOTE_ASSIGN_OR_RETURN(OutputPlace out_place, CheckOutput(ctx, out_ds, out_rel, file_name));
  LOTE_ASSIGN_OR_RETURN(json model, [&]() -> Result<json> {
    LOTE_ASSIGN_OR_RETURN(auto ref, model::ParseModelRef(dep["model"].get<std::string>()));
    return ctx.registry->GetModel(ref.name, ref.version);
  }());

  json runtime;
  if (dep["code_configuration"].is_object() && dep["code_configuration"].contains("native_library")) {
    // A C/C++ plugin (include/lote/plugin.h), loaded by the native worker.
    runtime = {{"kind", "native"},
               {"code_dir", dep["code_configuration"]["code"]},
               {"native_library", dep["code_configuration"]["native_library"]},
               {"model_dir", model["path"]},
               {"options", {{"kind", "plugin"}, {"plugin_options", json::object()}}}};
  } else if (dep["code_configuration"].is_object()) {
    runtime = {{"kind", "python"},
               {"python", ChoosePython(ctx, dep).python},
               {"runner", ctx.python_runner},
               {"code_dir", dep["code_configuration"]["code"]},
               {"scoring_script", dep["code_configuration"]["scoring_script"]},
               {"model_dir", model["path"]},
               {"options", json::object()}};
  } else {
    // No code: the model folder decides the runtime. lote's own drivers get
    // the model's own files (the one sub-folder of a model registered from a
    // folder, as Azure lays it out; the root for models stored before).
    // Deployments stored before output_layout existed write lote's layout.
    const std::string output_layout = dep.value("output_layout", std::string("lote"));
    // settings.passthrough_columns: a list of names, or "*" (model/deployment_spec.cc).
    const json passthrough = dep.value("passthrough_columns", json(nullptr));
    const std::string content_dir = native::ModelContentDir(model["path"].get<std::string>()).string();
    auto detected = native::DetectModel(model["path"].get<std::string>(), model.value("type", ""));
    if (!detected) return detected.error().WithContext("model '" + model["id"].get<std::string>() + "'");
    if (detected->kind == "mlflow_sklearn") {
      // The Python runner's built-in driver loads the pickled model with the
      // environment's scikit-learn; no mlflow package is needed.
      runtime = {{"kind", "python"},
                 {"python", ChoosePython(ctx, dep).python},
                 {"runner", ctx.python_runner},
                 {"code_dir", nullptr},
                 {"scoring_script", nullptr},
                 {"model_dir", content_dir},
                 {"options", {{"driver", "mlflow_sklearn"}, {"layout", output_layout}}}};
      if (!passthrough.is_null()) runtime["options"]["passthrough"] = passthrough;
    } else if (detected->kind == "mlflow_xgboost" || detected->kind == "xgboost" ||
               detected->kind == "torchscript") {
      if (detected->kind == "torchscript") {
        // Checked at deployment creation too; the build may have changed since.
        if (auto st = native::TorchRuntimeStatus(); !st) return st.error().UnderField("model");
      }
      // workers × threads fits the machine.
      int cores = std::max(1u, std::thread::hardware_concurrency());
      int per_worker = std::max(1, cores / std::max<int>(1, dep["max_concurrency_per_instance"].get<int>()));
      runtime = {{"kind", "native"},
                 {"model_dir", content_dir},
                 {"options", {{"kind", detected->kind}, {"threads", per_worker}, {"layout", output_layout}}}};
      if (!passthrough.is_null()) runtime["options"]["passthrough"] = passthrough;
    } else {
      return FailedPrecondition("deployment '" + dep["name"].get<std::string>() + "' has no code_configuration, and "
                                "model '" + model["id"].get<std::string>() + "' is not one lote scores with no "
                                "code (served with no code: MLflow folders with the xgboost or sklearn flavor, "
                                "model.type xgboost, model.type torchscript); add a code_configuration with a "
                                "score.py");
    }
  }

  // Last, so a refused invoke leaves no folder behind: the output folder,
  // made beneath its datastore, recorded by its real path.
  auto out_ds_root = ctx.registry->OpenDatastore(out_place.datastore);
  if (!out_ds_root) return out_ds_root.error().UnderField("output");
  auto out_dir = out_ds_root->MakeDirs(out_place.rel);
  if (!out_dir) return out_dir.error().UnderField("output");
  const fs::path out_file = *out_dir / file_name;

  std::string now = NowRfc3339();
  json job = {
      {"name", name},
      {"type", "batch"},
      {"endpoint", endpoint_name},
      // Which endpoint, not only its name: its tokens read its jobs (server/auth.h).
      {"endpoint_uid", endpoint.value("uid", "")},
      {"deployment", dep["name"]},
      {"model", dep["model"]},
      {"status", "NotStarted"},
      {"created_at", now},
      {"input", input},
      {"output", {{"datastore", out_ds},
                  {"path", out_rel},
                  {"file_name", file_name},
                  {"uri", "azureml://datastores/" + out_ds + "/paths/" +
                              (out_rel.empty() ? "" : out_rel + "/") + file_name},
                  {"local_path", out_file.string()},
                  {"local_dir", out_dir->string()},
                  // For writers that resolve beneath the datastore again (storage::Beneath).
                  {"root", out_ds_root->root().string()},
                  {"rel", out_place.rel}}},
      {"settings", {{"mini_batch_size", dep["mini_batch_size"]},
                    {"instance_count", dep["compute"]["instance_count"]},
                    {"max_concurrency_per_instance", dep["max_concurrency_per_instance"]},
                    {"max_retries", dep["retry_settings"]["max_retries"]},
                    {"timeout_s", dep["retry_settings"]["timeout"]},
                    {"error_threshold", dep["error_threshold"]},
                    {"logging_level", dep["logging_level"]},
                    {"output_action", dep["output_action"]},
                    {"output_layout", dep.value("output_layout", std::string("lote"))},
                    {"output_format", output_format},
                    {"passthrough_columns", dep.value("passthrough_columns", json(nullptr))},
                    {"environment_variables", dep["environment_variables"]},
                    {"compute", compute_name}}},
      // The agents run where the compute said when the job was created.
      {"compute_target", compute::ComputeTargetJson(target)},
      {"runtime", runtime},
      {"access", {{"artifacts", AccessModeName(access.artifacts)}, {"inputs", AccessModeName(access.inputs)}}},
      {"interactionEndpoints", {{"Studio", {{"endpoint", ctx.base_url + "/jobs/" + name}}}}},  // the dashboard page
  };
  if (!dep["environment"].is_null()) job["environment"] = dep["environment"];
  if (runtime["kind"] == "python") job["interpreter"] = InterpreterRecord(ChoosePython(ctx, dep));
  json notes = json::array();
  if (dep["environment"].is_object()) {
    const json& env = dep["environment"];
    if (env.contains("docker") || env.contains("image")) {
      notes.push_back("the environment's image is recorded but not used: lote runs without containers");
    }
    if (env.contains("conda_file")) {
      notes.push_back("the environment's conda_file is recorded but not used: lote builds no environments");
    }
  }
  if (dep.value("output_layout", std::string("lote")) == "azure" && dep["code_configuration"].is_object()) {
    notes.push_back("output_layout: azure shapes the rows of no-code deployments only; this deployment's "
                    "score.py returns its own rows, written as lote writes them");
  }
  if (job.contains("interpreter")) {
    const json& in = job["interpreter"];
    notes.push_back("python: " + in.value("path", in["python"].get<std::string>()) + " (" +
                    (in["source"] == "server" ? std::string("the server's, LOTE_PYTHON or python3")
                                              : std::string("the deployment's environment.python")) +
                    ")");
  }
  if (!notes.empty()) job["notes"] = std::move(notes);
  return job;
}

}  // namespace lote::jobs
