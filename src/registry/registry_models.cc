// Models: immutable name:version folders under <home>/models.
#include <set>

#include "common/crypto.h"
#include "common/util.h"
#include "model/names.h"
#include "registry/registry.h"

namespace lote::registry {

namespace fs = std::filesystem;

namespace {

// triton_model is recorded as Azure's scripts register it and scored like a
// custom_model (by the deployment's scoring script): lote runs no Triton.
const std::set<std::string> kModelTypes = {"mlflow_model", "custom_model", "triton_model", "xgboost",
                                           "torchscript"};
const std::set<std::string> kModelKeys = {"name", "version", "upload_id", "type", "description",
                                          "sha256", "folder"};

struct TreeStats {
  int64_t files = 0;
  int64_t bytes = 0;
};

TreeStats Stats(const fs::path& root) {
  TreeStats s;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file()) {
      ++s.files;
      s.bytes += static_cast<int64_t>(it->file_size());
    }
  }
  return s;
}

// The name of the folder a model was registered from, which Azure keeps as
// the one sub-folder of AZUREML_MODEL_DIR: one plain path component.
Status CheckFolderName(const std::string& folder) {
  std::string_view why;
  if (folder.empty()) why = "is empty";
  else if (folder == "." || folder == "..") why = "is not a folder name";
  else if (folder.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos) why = "must be one folder name, not a path";
  else if (folder.size() > 255) why = "is longer than 255 bytes";
  if (why.empty()) return {};
  return InvalidArgument("model folder '" + folder + "' " + std::string(why), "folder");
}

}  // namespace

Result<json> Registry::CreateModel(const json& body) {
  if (!body.is_object()) return InvalidArgument("model must be a JSON object");
  for (auto& [k, v] : body.items()) {
    if (!kModelKeys.contains(k)) return InvalidArgument("unknown model key '" + k + "'", k);
  }
  if (!body.contains("name") || !body["name"].is_string()) {
    return InvalidArgument("model name is required", "name");
  }
  std::string name = body["name"];
  LOTE_TRY(model::ValidateAssetName(name, "model", "name"));
  if (!body.contains("upload_id") || !body["upload_id"].is_string()) {
    return InvalidArgument("model '" + name + "' needs its files (upload_id)", "upload_id");
  }
  for (const char* key : {"type", "description", "sha256", "folder"}) {
    if (body.contains(key) && !body[key].is_string()) {
      return InvalidArgument(std::string("model '") + key + "' must be a string", key);
    }
  }
  std::string type = body.value("type", "");
  if (!type.empty() && !kModelTypes.contains(type)) {
    return InvalidArgument("model type '" + type +
                               "' is not one of mlflow_model, custom_model, triton_model, xgboost, torchscript",
                           "type");
  }
  // A model registered from a folder keeps that folder's name, as Azure
  // does: its files are <path>/<folder>/… and scripts glob "<path>/*/".
  const std::string folder = body.value("folder", "");
  if (body.contains("folder")) LOTE_TRY(CheckFolderName(folder));
  LOTE_ASSIGN_OR_RETURN(fs::path staged, UploadFilePath(body["upload_id"], "x"));
  staged = staged.parent_path();

  json result;
  LOTE_TRY(store_.Transaction([&]() -> Status {
    std::string version;
    if (body.contains("version") && !body["version"].is_null()) {
      const json& v = body["version"];
      version = v.is_string() ? v.get<std::string>() : v.dump();
      LOTE_TRY(model::ValidateVersion(version, "model", "version"));
      if (store_.Get(store::Kind::kModel, name + "/" + version)) {
        return AlreadyExists("model '" + name + ":" + version +
                                 "' already exists; model versions are immutable (omit "
                                 "--version to register the next one)",
                             "version");
      }
    } else {
      LOTE_ASSIGN_OR_RETURN(version, NextVersion(store::Kind::kModel, name));
    }
    std::error_code ec;
    if (!fs::exists(staged, ec) || fs::is_empty(staged, ec)) {
      return InvalidArgument("model '" + name + "' upload holds no files", "upload_id");
    }
    std::string kind = type;
    if (kind.empty()) kind = fs::exists(staged / "MLmodel") ? "mlflow_model" : "custom_model";
    if (kind == "mlflow_model" && !fs::exists(staged / "MLmodel")) {
      return InvalidArgument("model '" + name + "' has type mlflow_model but its folder has no MLmodel file", "type");
    }
    fs::path dest = home_.models() / name / version;
    fs::remove_all(dest, ec);  // a leftover of a crash between move and insert
    const fs::path content = folder.empty() ? dest : dest / folder;
    fs::create_directories(content.parent_path(), ec);
    fs::rename(staged, content, ec);
    if (ec) {
      fs::remove_all(dest, ec);
      return IoError("cannot store model files in '" + content.string() + "': " + ec.message());
    }
    // Over the model's own files, so the CLI's hash of the folder it
    // registered from matches (it reuses an identical registered version).
    LOTE_ASSIGN_OR_RETURN(std::string sha, TreeSha256(content));
    TreeStats stats = Stats(dest);
    result = json{{"name", name},
                  {"version", version},
                  {"id", "azureml:" + name + ":" + version},
                  {"type", kind},
                  {"description", body.value("description", "")},
                  {"path", dest.string()},  // AZUREML_MODEL_DIR
                  {"files", stats.files},
                  {"bytes", stats.bytes},
                  {"sha256", sha},
                  {"created_at", NowRfc3339()}};
    if (!folder.empty()) result["folder"] = folder;
    Status st = store_.Insert(store::Kind::kModel, name + "/" + version, result);
    if (!st) fs::remove_all(dest, ec);
    return st;
  }));
  return result;
}

Result<json> Registry::GetModel(const std::string& name, const std::string& version) {
  auto r = GetVersioned(store::Kind::kModel, name, version);
  if (!r && r.error().code() == ErrorCode::kNotFound && !version.empty() && version != "latest") {
    return NotFound("model '" + name + ":" + version + "' not found");
  }
  return r;
}

Result<json> Registry::ListModels(const std::string& name) {
  LOTE_ASSIGN_OR_RETURN(auto all, store_.List(store::Kind::kModel, name.empty() ? "" : name + "/"));
  return json(all);
}

Status Registry::DeleteModel(const std::string& name, const std::string& version) {
  return store_.Transaction([&]() -> Status {
    LOTE_ASSIGN_OR_RETURN(json m, GetModel(name, version));
    std::string id = m["id"];
    LOTE_ASSIGN_OR_RETURN(auto users,
                          DeploymentsUsing([&](const json& dep) { return dep["model"] == id; }));
    if (!users.empty()) {
      return FailedPrecondition("model '" + name + ":" + m["version"].get<std::string>() +
                                "' is used by deployment '" + users[0].second +
                                "' of endpoint '" + users[0].first + "'");
    }
    LOTE_TRY(store_.Delete(store::Kind::kModel, name + "/" + m["version"].get<std::string>()));
    std::error_code ec;
    fs::remove_all(m["path"].get<std::string>(), ec);
    return {};
  });
}

}  // namespace lote::registry
