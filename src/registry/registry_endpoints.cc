// Endpoints and their deployments. An endpoint document holds its deployments
// inline, so switching traffic or adding a deployment is one atomic replace.
#include <set>

#include "common/util.h"
#include "model/specs.h"
#include "native/mlmodel.h"
#include "native/torch_module.h"
#include "native/torchscript_archive.h"
#include "native/xgboost_model.h"
#include "registry/registry.h"
#include "storage/safe_path.h"

namespace lote::registry {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> DeploymentNames(const json& endpoint) {
  std::vector<std::string> names;
  for (const json& d : endpoint.value("deployments", json::array())) names.push_back(d["name"]);
  return names;
}

// Sets the derived fields of an endpoint document for output.
json Present(json endpoint, const std::string& base_url) {
  endpoint["scoring_uri"] = base_url + "/api/v1/endpoints/" + endpoint["name"].get<std::string>() + "/jobs";
  endpoint["defaults"] = json::object();
  for (auto& [dep, pct] : endpoint["traffic"].items()) {
    if (pct == 100) endpoint["defaults"]["deployment_name"] = dep;
  }
  return endpoint;
}

bool IsUnder(const fs::path& p, const fs::path& root) {
  auto r = root.lexically_normal().string();
  auto s = p.lexically_normal().string();
  return s.size() > r.size() && s.compare(0, r.size(), r) == 0 && s[r.size()] == '/';
}

// What can be known about a no-code model without scoring: its kind, and
// that its file loads (XGBoost, in-process) or is a TorchScript archive (by
// its zip entries; libtorch is not loaded into the server) which this build
// can score. What shows only when scoring fails the job, in job_result.txt.
Status CheckNoCodeModel(const fs::path& path, const std::string& type) {
  LOTE_ASSIGN_OR_RETURN(native::ModelKind kind, native::DetectModel(path, type));
  if (kind.kind == "xgboost" || kind.kind == "mlflow_xgboost") {
    LOTE_TRY(native::XgboostModel::Load({.model_file = kind.model_file, .threads = 1}));
  } else if (kind.kind == "torchscript") {
    LOTE_TRY(native::TorchRuntimeStatus());
    LOTE_TRY(native::CheckTorchScriptArchive(kind.model_file));
  }
  return {};
}

}  // namespace

void Registry::DiscardCode(const std::vector<fs::path>& moved) {
  std::error_code ec;
  for (const fs::path& dir : moved) fs::remove_all(dir, ec);
}

Result<json> Registry::ResolveDeployment(const std::string& endpoint, json dep,
                                         std::vector<fs::path>* moved) {
  const std::string dep_name = dep["name"];
  // Model: a registered model, named by reference (the CLI registers inline models first).
  if (!dep["model"].is_string()) {
    return InvalidArgument("model must reference a registered model ('azureml:<name>:<version>'); "
                           "the CLI registers inline models before sending the deployment", "model");
  }
  LOTE_ASSIGN_OR_RETURN(auto ref, model::ParseModelRef(dep["model"].get<std::string>()));
  auto m = GetModel(ref.name, ref.version);
  if (!m) return m.error().UnderField("model");
  dep["model"] = (*m)["id"];
  if (!dep["code_configuration"].is_object()) {
    // No code: the model must be one lote scores by itself; say so now, not at invoke.
    auto checked = CheckNoCodeModel((*m)["path"].get<std::string>(), (*m).value("type", ""));
    if (!checked) {
      return checked.error().WithContext("model '" + (*m)["id"].get<std::string>() + "'")
          .UnderField("model");
    }
  }

  // Compute: must exist and allow the instance count.
  LOTE_ASSIGN_OR_RETURN(std::string compute_name,
                        model::ParseComputeRef(dep["compute"]["target"].get<std::string>()));
  auto compute = GetCompute(compute_name);
  if (!compute) {
    return NotFound("compute '" + compute_name + "' not found (create it with `lote compute create`)",
                    "compute.target");
  }
  dep["compute"]["target"] = "azureml:" + compute_name;
  int64_t count = dep["compute"]["instance_count"];
  int64_t max = (*compute)["max_instances"];
  if (count > max) {
    return InvalidArgument("instance_count " + std::to_string(count) + " is above compute '" +
                               compute_name + "' max_instances " + std::to_string(max),
                           "compute.instance_count");
  }

  // Code: an upload moves under <home>/code/<endpoint>/; a stored path stays.
  json& cc = dep["code_configuration"];
  if (cc.is_object()) {
    fs::path code_dir;
    const json& code = cc["code"];
    if (code.is_object() && code.contains("upload_id")) {
      LOTE_ASSIGN_OR_RETURN(fs::path staged, UploadFilePath(code["upload_id"], "x"));
      staged = staged.parent_path();
      code_dir = home_.code() / endpoint / (dep_name + "-" + RandomHex(4));
      std::error_code ec;
      fs::create_directories(code_dir.parent_path(), ec);
      fs::rename(staged, code_dir, ec);
      if (ec) return IoError("cannot store code of deployment '" + dep_name + "': " + ec.message());
      moved->push_back(code_dir);
    } else if (code.is_string() && IsUnder(code.get<std::string>(), home_.code() / endpoint)) {
      code_dir = code.get<std::string>();
    } else {
      return InvalidArgument("code must be uploaded (the CLI uploads code.local_path)",
                             "code_configuration.code");
    }
    std::string key = cc.contains("native_library") ? "native_library" : "scoring_script";
    std::string script = cc.value(key, "");
    auto script_path = storage::SafeJoin(code_dir, script);
    std::error_code ec;
    if (!script_path || !fs::is_regular_file(*script_path, ec)) {
      return InvalidArgument(key + " '" + script + "' is not a file in the code folder",
                             "code_configuration." + key);
    }
    cc["code"] = code_dir.string();
  }
  if (!dep.contains("created_at")) dep["created_at"] = NowRfc3339();
  return dep;
}

Result<json> Registry::CreateEndpoint(const json& body) {
  LOTE_ASSIGN_OR_RETURN(json ep, model::NormalizeEndpoint(body));
  const std::string name = ep["name"];
  if (store_.Get(store::Kind::kEndpoint, name)) {
    return AlreadyExists("endpoint '" + name + "' already exists", "name");
  }
  json deployments = json::array();
  std::vector<fs::path> moved;  // code moved in by this request; taken away if it fails
  for (size_t i = 0; i < ep["deployments"].size(); ++i) {
    auto dep = ResolveDeployment(name, ep["deployments"][i], &moved);
    if (!dep) {
      DiscardCode(moved);
      return dep.error()
          .UnderField("deployments[" + std::to_string(i) + "]")
          .WithContext("deployment '" + ep["deployments"][i]["name"].get<std::string>() + "'");
    }
    deployments.push_back(*dep);
  }
  ep["deployments"] = deployments;
  ep["uid"] = RandomHex(16);  // the endpoint's identity, for its tokens
  ep["created_at"] = ep["updated_at"] = NowRfc3339();
  if (Status st = store_.Insert(store::Kind::kEndpoint, name, ep); !st) {
    DiscardCode(moved);  // e.g. a concurrent create of the same name won
    return st.error();
  }
  return Present(ep, base_url_);
}

Result<json> Registry::GetEndpoint(const std::string& name) {
  LOTE_ASSIGN_OR_RETURN(json ep, store_.Get(store::Kind::kEndpoint, name));
  return Present(ep, base_url_);
}

Result<std::string> Registry::EndpointUid(const std::string& name) {
  LOTE_ASSIGN_OR_RETURN(json ep, store_.Get(store::Kind::kEndpoint, name));
  const auto uid = ep.find("uid");
  if (uid == ep.end() || !uid->is_string() || uid->get<std::string>().empty()) {
    return Internal("endpoint '" + name + "' has no uid");
  }
  return uid->get<std::string>();
}

Status Registry::EnsureEndpointUids() {
  return store_.Transaction([&]() -> Status {
    LOTE_ASSIGN_OR_RETURN(auto all, store_.List(store::Kind::kEndpoint));
    for (json& ep : all) {
      if (ep.contains("uid") && ep["uid"].is_string() && !ep["uid"].get<std::string>().empty()) continue;
      ep["uid"] = RandomHex(16);
      LOTE_TRY(store_.Replace(store::Kind::kEndpoint, ep["name"].get<std::string>(), ep));
    }
    return {};
  });
}

Result<json> Registry::ListEndpoints() {
  LOTE_ASSIGN_OR_RETURN(auto all, store_.List(store::Kind::kEndpoint));
  json out = json::array();
  for (json& ep : all) out.push_back(Present(std::move(ep), base_url_));
  return out;
}

Result<json> Registry::UpdateEndpoint(const std::string& name, const json& patch) {
  if (!patch.is_object()) return InvalidArgument("endpoint update must be a JSON object");
  for (auto& [k, v] : patch.items()) {
    if (k != "traffic" && k != "description" && k != "tags") {
      return InvalidArgument("endpoint key '" + k + "' cannot be updated (only traffic, "
                             "description and tags; deployments are added with --deployment-file)", k);
    }
  }
  json tags;
  if (patch.contains("tags")) {  // checked by the endpoint schema's own rule
    LOTE_ASSIGN_OR_RETURN(json checked, model::NormalizeEndpoint({{"name", name}, {"tags", patch["tags"]}}));
    tags = checked.value("tags", json::object());
  }
  json result;
  LOTE_TRY(store_.Transaction([&]() -> Status {
    LOTE_ASSIGN_OR_RETURN(json ep, store_.Get(store::Kind::kEndpoint, name));
    if (patch.contains("description")) {
      if (!patch["description"].is_string()) return InvalidArgument("description must be a string", "description");
      ep["description"] = patch["description"];
    }
    if (patch.contains("tags")) {
      if (tags.empty()) ep.erase("tags");
      else ep["tags"] = tags;
    }
    if (patch.contains("traffic")) {
      const json& t = patch["traffic"];
      LOTE_TRY(model::ValidateTraffic(t, DeploymentNames(ep)));
      json traffic = ep.value("traffic", json::object());
      bool sets_default = false;
      for (auto& [dep, pct] : t.items()) sets_default |= (pct == 100 || pct == "100");
      if (sets_default) {
        for (auto& [dep, pct] : traffic.items()) pct = 0;  // only one deployment is live
      }
      for (auto& [dep, pct] : t.items()) traffic[dep] = (pct == 100 || pct == "100") ? 100 : 0;
      ep["traffic"] = traffic;
    }
    ep["updated_at"] = NowRfc3339();
    result = Present(ep, base_url_);
    return store_.Replace(store::Kind::kEndpoint, name, ep);
  }));
  return result;
}

Result<json> Registry::PutDeployment(const std::string& endpoint, const json& body) {
  LOTE_ASSIGN_OR_RETURN(json dep, model::NormalizeDeployment(body));
  LOTE_TRY(store_.Get(store::Kind::kEndpoint, endpoint));
  std::vector<fs::path> moved;
  auto resolved = ResolveDeployment(endpoint, dep, &moved);
  if (!resolved) {
    DiscardCode(moved);
    return resolved.error();
  }
  dep = std::move(*resolved);
  json result;
  std::string old_code;
  Status stored = store_.Transaction([&]() -> Status {
    LOTE_ASSIGN_OR_RETURN(json ep, store_.Get(store::Kind::kEndpoint, endpoint));
    json& deps = ep["deployments"];
    bool replaced = false;
    for (json& d : deps) {
      if (d["name"] == dep["name"]) {
        if (d["code_configuration"].is_object()) old_code = d["code_configuration"].value("code", "");
        dep["created_at"] = d.value("created_at", dep["created_at"].get<std::string>());
        dep["updated_at"] = NowRfc3339();
        d = dep;
        replaced = true;
      }
    }
    if (!replaced) deps.push_back(dep);
    json& traffic = ep["traffic"];
    if (!traffic.contains(dep["name"].get<std::string>())) {
      traffic[dep["name"].get<std::string>()] = deps.size() == 1 ? 100 : 0;
    }
    ep["updated_at"] = NowRfc3339();
    result = Present(ep, base_url_);
    return store_.Replace(store::Kind::kEndpoint, endpoint, ep);
  });
  if (!stored) {
    DiscardCode(moved);  // e.g. the endpoint was deleted meanwhile
    return stored.error();
  }
  // Jobs run from their own copy of the code, so the replaced folder can go.
  std::string new_code = dep["code_configuration"].is_object() ? dep["code_configuration"].value("code", "") : "";
  if (!old_code.empty() && old_code != new_code && IsUnder(old_code, home_.code() / endpoint)) {
    std::error_code ec;
    fs::remove_all(old_code, ec);
  }
  return result;
}

Result<json> Registry::DeleteDeployment(const std::string& endpoint, const std::string& deployment) {
  json result;
  std::string code;
  LOTE_TRY(store_.Transaction([&]() -> Status {
    LOTE_ASSIGN_OR_RETURN(json ep, store_.Get(store::Kind::kEndpoint, endpoint));
    json kept = json::array();
    for (const json& d : ep["deployments"]) {
      if (d["name"] != deployment) kept.push_back(d);
      else if (d["code_configuration"].is_object()) code = d["code_configuration"].value("code", "");
    }
    if (kept.size() == ep["deployments"].size()) {
      return NotFound("deployment '" + deployment + "' not found in endpoint '" + endpoint + "'");
    }
    if (ep["traffic"].value(deployment, 0) == 100 && !kept.empty()) {
      return FailedPrecondition("deployment '" + deployment + "' has traffic 100; switch traffic "
                                "to another deployment before deleting it");
    }
    ep["deployments"] = kept;
    ep["traffic"].erase(deployment);
    ep["updated_at"] = NowRfc3339();
    result = Present(ep, base_url_);
    return store_.Replace(store::Kind::kEndpoint, endpoint, ep);
  }));
  if (!code.empty() && IsUnder(code, home_.code() / endpoint)) {
    std::error_code ec;
    fs::remove_all(code, ec);
  }
  return result;
}

Status Registry::DeleteEndpoint(const std::string& name) {
  LOTE_TRY(store_.Delete(store::Kind::kEndpoint, name));
  std::error_code ec;
  fs::remove_all(home_.code() / name, ec);  // registered models stay
  return {};
}

}  // namespace lote::registry
