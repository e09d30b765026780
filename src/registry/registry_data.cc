// Datastores (folders lote reads inputs from and writes outputs to) and data
// assets (named, versioned pointers into a datastore or to an http(s) URL).
#include <set>

#include "common/util.h"
#include "model/names.h"
#include "registry/registry.h"
#include "storage/safe_path.h"

namespace lote::registry {

namespace fs = std::filesystem;

namespace {
constexpr const char* kDefaultDatastore = "workspaceblobstore";

Status CheckKeys(const json& body, const std::set<std::string>& allowed, const std::string& what) {
  if (!body.is_object()) return InvalidArgument(what + " must be a JSON object");
  for (auto& [k, v] : body.items()) {
    if (!allowed.contains(k)) return InvalidArgument("unknown " + what + " key '" + k + "'", k);
  }
  return {};
}

// Optional members that must be strings when present (body.value() would
// throw on another type: a 500 instead of the client's 400).
Status CheckStrings(const json& body, std::initializer_list<const char*> keys, const std::string& what) {
  for (const char* key : keys) {
    if (body.contains(key) && !body[key].is_string()) {
      return InvalidArgument(what + " '" + key + "' must be a string", key);
    }
  }
  return {};
}

Result<std::string> RequiredString(const json& body, const std::string& key, const std::string& what) {
  if (!body.contains(key) || !body[key].is_string() || body[key].get<std::string>().empty()) {
    return InvalidArgument(what + " needs '" + key + "'", key);
  }
  return body[key].get<std::string>();
}
}  // namespace

Status Registry::EnsureDefaultDatastore() {
  fs::path dir = home_.datastores() / kDefaultDatastore;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create '" + dir.string() + "': " + ec.message());
  if (store_.Get(store::Kind::kDatastore, kDefaultDatastore)) return {};
  json ds = {{"name", kDefaultDatastore}, {"type", "local"},        {"path", dir.string()},
             {"is_default", true},        {"mounted_on_nodes", false},
             {"description", "lote's default datastore"},  {"created_at", NowRfc3339()}};
  Status st = store_.Insert(store::Kind::kDatastore, kDefaultDatastore, ds);
  if (!st && st.error().code() != ErrorCode::kAlreadyExists) return st;
  return {};
}

Result<json> Registry::CreateDatastore(const json& body) {
  LOTE_TRY(CheckKeys(body, {"name", "type", "path", "description", "mounted_on_nodes", "$schema"}, "datastore"));
  LOTE_TRY(CheckStrings(body, {"type", "description"}, "datastore"));
  // The folder is at the same path on every compute node (jobs/agent_access.h).
  bool mounted = false;
  if (auto m = body.find("mounted_on_nodes"); m != body.end() && !m->is_null()) {
    if (!m->is_boolean()) return InvalidArgument("datastore 'mounted_on_nodes' must be true or false", "mounted_on_nodes");
    mounted = m->get<bool>();
  }
  LOTE_ASSIGN_OR_RETURN(std::string name, RequiredString(body, "name", "datastore"));
  LOTE_TRY(model::ValidateResourceName(name, "datastore", "name"));
  std::string type = body.value("type", "local");
  if (type != "local") {
    return InvalidArgument("datastore type '" + type + "' is not supported; use 'local' (a folder, "
                           "which may be a shared mount)", "type");
  }
  LOTE_ASSIGN_OR_RETURN(std::string path, RequiredString(body, "path", "datastore"));
  fs::path p(path);
  if (!p.is_absolute()) return InvalidArgument("datastore path '" + path + "' must be absolute", "path");
  std::error_code ec;
  if (!fs::is_directory(p, ec)) {
    return InvalidArgument("datastore path '" + path + "' is not an existing folder", "path");
  }
  json ds = {{"name", name},
             {"type", "local"},
             {"path", fs::weakly_canonical(p, ec).string()},
             {"is_default", false},
             {"mounted_on_nodes", mounted},
             {"description", body.value("description", "")},
             {"created_at", NowRfc3339()}};
  LOTE_TRY(store_.Insert(store::Kind::kDatastore, name, ds));
  return ds;
}

Result<json> Registry::GetDatastore(const std::string& name) {
  return store_.Get(store::Kind::kDatastore, name);
}

Result<json> Registry::ListDatastores() {
  LOTE_ASSIGN_OR_RETURN(auto all, store_.List(store::Kind::kDatastore));
  return json(all);
}

Status Registry::DeleteDatastore(const std::string& name) {
  return store_.Transaction([&]() -> Status {
    LOTE_ASSIGN_OR_RETURN(json ds, store_.Get(store::Kind::kDatastore, name));
    if (ds.value("is_default", false)) {
      return FailedPrecondition("datastore '" + name + "' is the default datastore and cannot be deleted");
    }
    LOTE_ASSIGN_OR_RETURN(auto assets, store_.List(store::Kind::kDataAsset));
    for (const json& a : assets) {
      if (a.value("datastore", "") == name) {
        return FailedPrecondition("datastore '" + name + "' is used by data asset '" +
                                  a["id"].get<std::string>() + "'");
      }
    }
    // Registration only: the folder and its files stay where they are.
    return store_.Delete(store::Kind::kDatastore, name);
  });
}

Result<storage::Beneath> Registry::OpenDatastore(const std::string& name) {
  LOTE_ASSIGN_OR_RETURN(json ds, store_.Get(store::Kind::kDatastore, name));
  return storage::Beneath::Open(ds["path"].get<std::string>(), "datastore '" + name + "'");
}

Result<fs::path> Registry::DatastorePath(const std::string& name, const std::string& rel) {
  LOTE_ASSIGN_OR_RETURN(storage::Beneath ds, OpenDatastore(name));
  auto info = ds.Stat(rel);
  if (info) return info->resolved;
  if (info.error().code() != ErrorCode::kNotFound) return info.error();
  LOTE_ASSIGN_OR_RETURN(fs::path checked, storage::SafeJoin(ds.root(), rel));
  return checked;
}

Result<json> Registry::CreateData(const json& body) {
  LOTE_TRY(CheckKeys(body, {"name", "version", "type", "path", "datastore", "relative_path",
                            "description", "$schema"},
                     "data asset"));
  LOTE_TRY(CheckStrings(body, {"type", "path", "datastore", "relative_path", "description"}, "data asset"));
  LOTE_ASSIGN_OR_RETURN(std::string name, RequiredString(body, "name", "data asset"));
  LOTE_TRY(model::ValidateAssetName(name, "data asset", "name"));
  std::string type = body.value("type", "");
  if (!type.empty() && type != "uri_folder" && type != "uri_file") {
    return InvalidArgument("data asset type '" + type + "' is not one of uri_folder, uri_file", "type");
  }
  json asset = {{"name", name}, {"description", body.value("description", "")}};
  std::string path = body.value("path", "");
  std::string datastore = body.value("datastore", "");
  std::string relative = body.value("relative_path", "");
  constexpr std::string_view kAzureml = "azureml://datastores/";
  if (path.starts_with(kAzureml)) {
    std::string rest = path.substr(kAzureml.size());
    size_t slash = rest.find("/paths/");
    if (slash == std::string::npos) {
      return InvalidArgument("path '" + path + "' must look like azureml://datastores/<name>/paths/<path>", "path");
    }
    datastore = rest.substr(0, slash);
    relative = rest.substr(slash + 7);
    path.clear();
  }
  if (!path.empty()) {
    if (!path.starts_with("http://") && !path.starts_with("https://")) {
      return InvalidArgument("data path '" + path + "' must be an http(s) URL, an azureml:// "
                             "datastore path, or a local path the CLI uploads", "path");
    }
    // Refused now when this server may never fetch it (lote serve --allow/--deny-url-host).
    if (auto st = url_policy_.CheckUrl(path); !st) return st.error().UnderField("path");
    asset["type"] = type.empty() ? (path.ends_with("/") ? "uri_folder" : "uri_file") : type;
    asset["path"] = path;
  } else {
    if (datastore.empty()) {
      return InvalidArgument("data asset '" + name + "' needs a path or a datastore", "path");
    }
    if (datastore.starts_with("azureml:")) datastore = datastore.substr(8);
    LOTE_ASSIGN_OR_RETURN(storage::Beneath ds, OpenDatastore(datastore));
    LOTE_ASSIGN_OR_RETURN(std::string norm, storage::NormalizeRelativePath(relative));
    auto info = ds.Stat(norm);
    if (!info && info.error().code() == ErrorCode::kNotFound) {
      return NotFound("'" + norm + "' does not exist in datastore '" + datastore + "'", "path");
    }
    if (!info) return info.error().UnderField("path");
    std::string actual;
    if (info->type == storage::EntryType::kDir) actual = "uri_folder";
    else if (info->type == storage::EntryType::kFile) actual = "uri_file";
    else return InvalidArgument("'" + norm + "' in datastore '" + datastore + "' is neither a file nor a folder", "path");
    if (!type.empty() && type != actual) {
      return InvalidArgument("data asset type is " + type + " but '" + norm + "' is a " +
                             (actual == "uri_folder" ? "folder" : "file"), "type");
    }
    asset["type"] = actual;
    asset["datastore"] = datastore;
    asset["relative_path"] = norm;
    asset["path"] = "azureml://datastores/" + datastore + "/paths/" + norm;
  }
  json result;
  LOTE_TRY(store_.Transaction([&]() -> Status {
    std::string version;
    if (body.contains("version") && !body["version"].is_null()) {
      version = body["version"].is_string() ? body["version"].get<std::string>() : body["version"].dump();
      LOTE_TRY(model::ValidateVersion(version, "data asset", "version"));
    } else {
      LOTE_ASSIGN_OR_RETURN(version, NextVersion(store::Kind::kDataAsset, name));
    }
    result = asset;
    result["version"] = version;
    result["id"] = "azureml:" + name + ":" + version;
    result["created_at"] = NowRfc3339();
    auto st = store_.Insert(store::Kind::kDataAsset, name + "/" + version, result);
    if (!st && st.error().code() == ErrorCode::kAlreadyExists) {
      return AlreadyExists("data asset '" + name + ":" + version + "' already exists", "version");
    }
    return st;
  }));
  return result;
}

Result<json> Registry::GetData(const std::string& name, const std::string& version) {
  auto r = GetVersioned(store::Kind::kDataAsset, name, version);
  if (!r && r.error().code() == ErrorCode::kNotFound && !version.empty() && version != "latest") {
    return NotFound("data asset '" + name + ":" + version + "' not found");
  }
  return r;
}

Result<json> Registry::ListData(const std::string& name) {
  LOTE_ASSIGN_OR_RETURN(auto all, store_.List(store::Kind::kDataAsset, name.empty() ? "" : name + "/"));
  return json(all);
}

Status Registry::DeleteData(const std::string& name, const std::string& version) {
  LOTE_ASSIGN_OR_RETURN(json d, GetData(name, version));
  return store_.Delete(store::Kind::kDataAsset, name + "/" + d["version"].get<std::string>());
}

}  // namespace lote::registry
