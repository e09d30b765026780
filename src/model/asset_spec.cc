// NormalizeModel and NormalizeDataAsset (docs/resources.md, "model", "data"),
// and the inline model of a deployment.
#include "model/names.h"
#include "model/spec_util.h"
#include "model/specs.h"
#include "model/yaml_doc.h"

namespace lote::model {
namespace internal {

Result<std::string> NormalizeModelType(const Json& v, std::string_view label, std::string field) {
  if (v.is_string()) {
    std::string t = Lower(Trim(v.get_ref<const std::string&>()));
    if (t == "mlflow_model" || t == "custom_model" || t == "triton_model" || t == "xgboost" ||
        t == "torchscript") {
      return t;
    }
  }
  return InvalidArgument(std::string(label) +
                             " must be mlflow_model, custom_model, triton_model, xgboost or torchscript, got " +
                             Show(v),
                         std::move(field));
}

Result<Json> NormalizeInlineModel(const Json& in, std::string at, std::string rel) {
  LOTE_ASSIGN_OR_RETURN(auto r, ObjectReader::Open(in, rel, at, rel,
                                                   {"name", "version", "local_path", "path",
                                                    "type", "description"}));
  Json out = in;
  LOTE_ASSIGN_OR_RETURN(std::string name, r.RequiredString("name"));
  LOTE_TRY(ValidateAssetName(name, "model", r.Field("name")));
  LOTE_ASSIGN_OR_RETURN(auto version, r.Version("version", "model"));
  if (version) out["version"] = *version;
  if (r.Has("local_path") == r.Has("path")) {
    return InvalidArgument(r.rel() + " needs exactly one of local_path, path (the model's folder "
                                     "or file)",
                           at);
  }
  std::string_view key = r.Has("local_path") ? "local_path" : "path";
  LOTE_TRY(r.RequiredString(key));
  LOTE_TRY(r.OptionalString("description"));
  if (const Json* type = r.Get("type")) {
    LOTE_ASSIGN_OR_RETURN(out["type"], NormalizeModelType(*type, r.Label("type"), r.Field("type")));
  }
  return out;
}

}  // namespace internal

namespace {

using internal::Json;
using internal::Lower;
using internal::ObjectReader;
using internal::Quote;
using internal::Trim;

constexpr std::string_view kDatastoreUri = "azureml://datastores/";

std::string StripAzureml(std::string s) {
  if (s.starts_with("azureml:") && !s.starts_with("azureml://")) s.erase(0, 8);
  return s;
}

}  // namespace

Result<nlohmann::json> NormalizeModel(const nlohmann::json& in) {
  LOTE_ASSIGN_OR_RETURN(auto r, ObjectReader::Open(in, "model", "", "",
                                                   {"$schema", "name", "version", "type",
                                                    "description", "local_path", "upload_id"},
                                                   {"id", "path", "files", "bytes", "sha256",
                                                    "created_at", "updated_at"}));
  Json out = Json::object();
  LOTE_ASSIGN_OR_RETURN(std::string name, r.RequiredString("name"));
  LOTE_TRY(ValidateAssetName(name, "model", r.Field("name")));
  out["name"] = name;
  LOTE_ASSIGN_OR_RETURN(auto version, r.Version("version", "model"));
  if (version) out["version"] = *version;
  if (const Json* type = r.Get("type")) {
    LOTE_ASSIGN_OR_RETURN(out["type"], internal::NormalizeModelType(*type, "type", r.Field("type")));
  }
  LOTE_ASSIGN_OR_RETURN(out["description"], r.String("description"));
  if (r.Has("local_path") && r.Has("upload_id")) {
    return InvalidArgument("give local_path or upload_id, not both", r.Field("upload_id"));
  }
  for (std::string_view key : {"local_path", "upload_id"}) {
    if (!r.Has(key)) continue;
    LOTE_ASSIGN_OR_RETURN(out[std::string(key)], r.RequiredString(key));
  }
  return out;
}

Result<nlohmann::json> NormalizeDataAsset(const nlohmann::json& in) {
  LOTE_ASSIGN_OR_RETURN(auto r, ObjectReader::Open(in, "data", "", "",
                                                   {"$schema", "name", "version", "type",
                                                    "description", "path", "local_path",
                                                    "datastore", "relative_path"},
                                                   {"id", "created_at", "updated_at"}));
  Json out = Json::object();
  LOTE_ASSIGN_OR_RETURN(std::string name, r.RequiredString("name"));
  LOTE_TRY(ValidateAssetName(name, "data", r.Field("name")));
  out["name"] = name;
  LOTE_ASSIGN_OR_RETURN(auto version, r.Version("version", "data"));
  if (version) out["version"] = *version;
  // Without a type, the server infers it from what the path is.
  LOTE_ASSIGN_OR_RETURN(std::string type, r.String("type", ""));
  type = Lower(Trim(type));
  if (!type.empty() && type != "uri_folder" && type != "uri_file") {
    return InvalidArgument("type must be uri_folder or uri_file, got " + Quote(type),
                           r.Field("type"));
  }
  if (!type.empty()) out["type"] = type;
  LOTE_ASSIGN_OR_RETURN(out["description"], r.String("description"));

  LOTE_ASSIGN_OR_RETURN(auto path, r.OptionalString("path"));
  LOTE_ASSIGN_OR_RETURN(auto local_path, r.OptionalString("local_path"));
  LOTE_ASSIGN_OR_RETURN(auto datastore, r.OptionalString("datastore"));
  LOTE_ASSIGN_OR_RETURN(auto relative_path, r.OptionalString("relative_path"));
  if (datastore) datastore = StripAzureml(*datastore);

  if (path && path->empty()) return InvalidArgument("path is empty", r.Field("path"));
  if (path && path->starts_with(kDatastoreUri)) {
    // azureml://datastores/<ds>/paths/<rel>
    std::string_view rest = std::string_view(*path).substr(kDatastoreUri.size());
    size_t sep = rest.find("/paths/");
    if (sep == std::string_view::npos) {
      return InvalidArgument("path " + Quote(*path) +
                                 " is invalid: expected azureml://datastores/<name>/paths/<path>",
                             r.Field("path"));
    }
    std::string ds(rest.substr(0, sep)), rel(rest.substr(sep + 7));
    if ((datastore && *datastore != ds) || (relative_path && *relative_path != rel)) {
      return InvalidArgument("datastore/relative_path disagree with path " + Quote(*path),
                             r.Field(datastore && *datastore != ds ? "datastore" : "relative_path"));
    }
    datastore = ds;
    relative_path = rel;
  } else if (path && (path->starts_with("http://") || path->starts_with("https://"))) {
    if (datastore || relative_path || local_path) {
      return InvalidArgument("a URL path takes no datastore, relative_path or local_path",
                             r.Field("path"));
    }
    out["path"] = *path;
    return out;
  } else if (path) {
    // GA data YAML: a local path the CLI uploads.
    if (local_path) return InvalidArgument("give path or local_path, not both", r.Field("path"));
    local_path = path;
  }

  if (local_path) {
    if (datastore || relative_path) {
      return InvalidArgument("local_path takes no datastore or relative_path (the CLI uploads it "
                             "to the default datastore)",
                             r.Field("local_path"));
    }
    if (local_path->empty()) return InvalidArgument("local_path is empty", r.Field("local_path"));
    out["local_path"] = *local_path;
    return out;
  }
  if (!datastore && !relative_path) {
    return InvalidArgument("data needs path, local_path, or datastore and relative_path", "");
  }
  if (!datastore) return InvalidArgument("datastore is required with relative_path", r.Field("datastore"));
  if (!relative_path) {
    return InvalidArgument("relative_path is required with datastore", r.Field("relative_path"));
  }
  LOTE_TRY(ValidateResourceName(*datastore, "datastore",
                                r.Field(r.Has("datastore") ? "datastore" : "path")));
  LOTE_TRY(internal::CheckRelativePath(*relative_path, "relative_path",
                                       r.Field(r.Has("relative_path") ? "relative_path" : "path")));
  out["datastore"] = *datastore;
  out["relative_path"] = *relative_path;
  out["path"] = std::string(kDatastoreUri) + *datastore + "/paths/" + *relative_path;
  return out;
}

}  // namespace lote::model
