#include "jobs/invoke_request.h"

#include <limits.h>

#include <set>

#include "common/util.h"
#include "model/names.h"
#include "jobs/invoke_forms.h"

namespace lote::jobs {

using nlohmann::json;

namespace {

using invoke::DataType;

// Every member of `obj` must be a string and one of `allowed`; InvalidArgument
// names the field ("output.path") otherwise, so the job builder never meets a
// number where it reads a string.
Status CheckStringMembers(const json& obj, const std::set<std::string>& allowed, const std::string& where,
                          const std::string& expected) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    std::string field = where + "." + it.key();
    if (!allowed.contains(it.key())) {
      return InvalidArgument("unknown key '" + it.key() + "' in " + where + " (expected " + expected + ")", field);
    }
    if (!it.value().is_string()) {
      return InvalidArgument(field + " must be a string, not " + std::string(it.value().type_name()), field);
    }
  }
  return {};
}

// A path that the filesystem would refuse with ENAMETOOLONG is the client's
// error, named here rather than surfacing as an I/O failure later.
Status CheckPathLimits(const json& obj, const char* key, const std::string& field) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_string()) return {};
  const std::string& p = obj[key].get_ref<const std::string&>();
  if (p.size() >= PATH_MAX) {
    return InvalidArgument(field + " is " + std::to_string(p.size()) + " bytes long, over the limit of " +
                               std::to_string(PATH_MAX - 1) + " (PATH_MAX)",
                           field);
  }
  size_t start = 0;
  for (;;) {
    size_t slash = p.find('/', start);
    size_t len = (slash == std::string::npos ? p.size() : slash) - start;
    if (len > NAME_MAX) {
      return InvalidArgument(field + " has a name of " + std::to_string(len) + " bytes, over the limit of " +
                                 std::to_string(NAME_MAX) + " (NAME_MAX)",
                             field);
    }
    if (slash == std::string::npos) return {};
    start = slash + 1;
  }
}

Status CheckPathLimits(const json& request) {
  if (request.contains("input")) LOTE_TRY(CheckPathLimits(request["input"], "path", "input.path"));
  if (request.contains("output")) {
    LOTE_TRY(CheckPathLimits(request["output"], "path", "output.path"));
    LOTE_TRY(CheckPathLimits(request["output"], "file_name", "output.file_name"));
  }
  return {};
}

// A location given as a datastore URI where lote's shape has {datastore,
// path}: "path": "azureml://datastores/<ds>/paths/<p>" (what `--output-path
// azureml://…` sends) or "uri". The datastore it names wins over none given,
// and must match one given.
Status DatastorePathFromUri(json& obj, const std::string& where) {
  std::string key = obj.contains("uri") ? "uri" : "path";
  if (!obj.contains(key) || !invoke::LooksLikeDatastoreUri(obj[key].get<std::string>())) return {};
  if (key == "uri" && obj.contains("path")) {
    return InvalidArgument(where + " has both uri and path; give one", where + ".uri");
  }
  const std::string field = where + "." + key;
  LOTE_ASSIGN_OR_RETURN(json loc, invoke::DatastoreFromUri(obj[key].get<std::string>(), field));
  if (obj.contains("datastore")) {
    std::string given = obj["datastore"];
    if (given.starts_with("azureml:")) given = given.substr(8);
    if (given != loc["datastore"].get<std::string>()) {
      return InvalidArgument(field + " is in datastore '" + loc["datastore"].get<std::string>() + "' but " + where +
                                 ".datastore says '" + given + "'",
                             where + ".datastore");
    }
  }
  obj.erase("uri");
  obj["datastore"] = loc["datastore"];
  obj["path"] = loc["path"];
  return {};
}

Result<json> ParseInput(const json& in) {
  int kinds = in.is_object() ? int(in.contains("data")) + int(in.contains("datastore")) + int(in.contains("uri")) : 0;
  if (kinds != 1) {
    return InvalidArgument("input must be exactly one of {data}, {datastore, path}, {uri}, each with an optional "
                           "type (uri_folder or uri_file)",
                           "input");
  }
  if (in.contains("datastore")) {
    LOTE_TRY(CheckStringMembers(in, {"datastore", "path", "type"}, "input", "datastore, path and type"));
  } else if (in.contains("data")) {
    LOTE_TRY(CheckStringMembers(in, {"data", "type"}, "input", "data and type"));
  } else {
    LOTE_TRY(CheckStringMembers(in, {"uri", "type"}, "input", "uri and type"));
  }
  DataType type = DataType::kUnspecified;
  if (in.contains("type")) {
    LOTE_ASSIGN_OR_RETURN(type, invoke::ParseDataType(in["type"], "input.type"));
  }
  json out = in;
  out.erase("type");
  if (out.contains("uri")) {
    LOTE_ASSIGN_OR_RETURN(out, invoke::InputFromUri(out["uri"].get<std::string>(), "input.uri"));
    return invoke::TypedInput(std::move(out), type, "input.uri");
  }
  LOTE_TRY(DatastorePathFromUri(out, "input"));
  return out;
}

}  // namespace

Result<json> ParseInvokeRequest(const json& body) {
  if (!body.is_object()) return InvalidArgument("invoke body must be a JSON object");
  json out = json::object();
  if (invoke::Member props = invoke::FindMember(body, "properties")) {
    if (!props.value->is_object()) return InvalidArgument(props.key + " must be an object", props.key);
    LOTE_ASSIGN_OR_RETURN(out, invoke::ParseAzureProperties(*props.value, props.key));
    LOTE_TRY(CheckPathLimits(out));
    return out;
  }
  static const std::set<std::string> kKeys = {"deployment", "input", "output", "set", "name"};
  for (auto& [k, v] : body.items()) {
    if (!kKeys.contains(k)) {
      return InvalidArgument("unknown invoke key '" + k + "' (expected input, output, deployment, set, or Azure's properties)", k);
    }
  }
  if (!body.contains("input")) return InvalidArgument("invoke needs an input", "input");
  LOTE_ASSIGN_OR_RETURN(out["input"], ParseInput(body["input"]));
  if (body.contains("output")) {
    if (!body["output"].is_object()) return InvalidArgument("output must be an object", "output");
    json output = body["output"];
    LOTE_TRY(CheckStringMembers(output, {"datastore", "path", "file_name", "uri"}, "output",
                                "datastore, path, file_name, uri"));
    if (output.contains("uri") && !invoke::LooksLikeDatastoreUri(output["uri"].get<std::string>())) {
      return InvalidArgument("output.uri '" + output["uri"].get<std::string>() +
                                 "' must be azureml://datastores/<name>/paths/<path>",
                             "output.uri");
    }
    LOTE_TRY(DatastorePathFromUri(output, "output"));
    out["output"] = output;
  }
  if (body.contains("deployment")) {
    if (!body["deployment"].is_string()) {
      return InvalidArgument("deployment must be a string (a deployment's name), not " +
                                 std::string(body["deployment"].type_name()),
                             "deployment");
    }
    out["deployment"] = body["deployment"];
  }
  if (body.contains("set")) {
    if (!body["set"].is_object()) return InvalidArgument("set must be an object of overrides", "set");
    out["set"] = body["set"];
  }
  if (body.contains("name")) {  // the job's name (az's --job-name); else one is made up
    if (!body["name"].is_string()) return InvalidArgument("name must be a string (the job's name)", "name");
    LOTE_TRY(model::ValidateAssetName(body["name"].get<std::string>(), "job", "name"));
    out["name"] = body["name"];
  }
  LOTE_TRY(CheckPathLimits(out));
  return out;
}

Result<json> ApplyOverrides(json deployment, const json& set) {
  static const std::set<std::string> kTunable = {
      "mini_batch_size", "compute.instance_count", "instance_count", "max_concurrency_per_instance",
      "retry_settings.max_retries", "max_retries", "retry_settings.timeout", "timeout",
      "error_threshold", "logging_level", "output_file_name", "output_action", "output_layout",
      "output_format", "passthrough_columns"};
  for (auto& [key, value] : set.items()) {
    if (!kTunable.contains(key)) {
      return InvalidArgument("'" + key + "' cannot be overridden per job (allowed: mini_batch_size, "
                             "instance_count, max_concurrency_per_instance, retry_settings.max_retries, "
                             "retry_settings.timeout, error_threshold, logging_level, output_file_name, "
                             "output_action, output_layout, output_format, passthrough_columns)", "set." + key);
    }
    std::string k = key;
    if (k == "instance_count") k = "compute.instance_count";
    if (k == "max_retries" || k == "timeout") k = "retry_settings." + k;
    size_t dot = k.find('.');
    if (dot == std::string::npos) {
      deployment[k] = value;
    } else {
      deployment[k.substr(0, dot)][k.substr(dot + 1)] = value;
    }
  }
  return deployment;
}

}  // namespace lote::jobs
