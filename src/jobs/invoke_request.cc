#include "jobs/invoke_request.h"

#include <limits.h>

#include <set>

#include "common/util.h"
#include "model/names.h"

namespace lote::jobs {

using nlohmann::json;

namespace {

// Azure's payloads are not consistent about key case ("Path" / "path").
const json* FindKey(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  std::string want = ToLower(key);
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (ToLower(it.key()) == want) return &it.value();
  }
  return nullptr;
}

std::string StringAt(const json& obj, std::string_view key) {
  const json* v = FindKey(obj, key);
  return v && v->is_string() ? v->get<std::string>() : "";
}

std::string LastSegment(std::string s) {
  if (s.starts_with("azureml:")) s = s.substr(8);
  while (!s.empty() && s.back() == '/') s.pop_back();
  size_t slash = s.rfind('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

// "azureml://datastores/<ds>/paths/<rel>" -> {datastore, path}
Result<json> DatastoreUri(const std::string& uri, const std::string& field) {
  constexpr std::string_view kPrefix = "azureml://datastores/";
  std::string rest = uri.substr(kPrefix.size());
  size_t p = rest.find("/paths/");
  if (p == std::string::npos) {
    return InvalidArgument("'" + uri + "' must look like azureml://datastores/<name>/paths/<path>", field);
  }
  return json{{"datastore", rest.substr(0, p)}, {"path", rest.substr(p + 7)}};
}

Result<json> InputFromUri(const std::string& uri, const std::string& field) {
  if (uri.empty()) return InvalidArgument("the input has no path or URI", field);
  if (uri.starts_with("azureml://datastores/")) return DatastoreUri(uri, field);
  if (uri.starts_with("azureml:")) return json{{"data", uri}};
  if (uri.starts_with("http://") || uri.starts_with("https://")) return json{{"uri", uri}};
  return InvalidArgument("input '" + uri + "' must be an http(s) URL, azureml:<data>:<version> or "
                         "azureml://datastores/<name>/paths/<path>", field);
}

Result<json> ParseAzure(const json& props, json& out) {
  // 2020-09: properties.dataset / outputDataset / outputFileName
  if (const json* ds = FindKey(props, "dataset")) {
    std::string type = StringAt(*ds, "dataInputType");
    if (type == "DatasetVersion" || type == "DatasetId") {
      std::string name = StringAt(*ds, "datasetName");
      const json* ver = FindKey(*ds, "datasetVersion");
      if (name.empty()) return InvalidArgument("DatasetVersion input needs datasetName", "properties.dataset.datasetName");
      std::string v = ver ? (ver->is_string() ? ver->get<std::string>() : ver->dump()) : "latest";
      out["input"] = {{"data", "azureml:" + name + ":" + v}};
    } else if (type.empty() || type == "DataUrl") {
      LOTE_ASSIGN_OR_RETURN(out["input"], InputFromUri(StringAt(*ds, "path"), "properties.dataset.Path"));
    } else {
      return InvalidArgument("dataInputType '" + type + "' is not one of DataUrl, DatasetVersion",
                             "properties.dataset.dataInputType");
    }
    if (const json* od = FindKey(props, "outputDataset")) {
      json o = json::object();
      std::string ds_id = StringAt(*od, "datastoreId");
      if (!ds_id.empty()) o["datastore"] = LastSegment(ds_id);
      std::string path = StringAt(*od, "path");
      if (!path.empty()) o["path"] = path;
      out["output"] = o;
    }
    std::string file = StringAt(props, "outputFileName");
    if (!file.empty()) out["output"]["file_name"] = file;
    return out;
  }
  // 2022: properties.InputData.<name>.Uri, properties.OutputData.<name>.Uri
  if (const json* inputs = FindKey(props, "InputData"); inputs && inputs->is_object()) {
    if (inputs->size() != 1) {
      return InvalidArgument("InputData must hold exactly one input", "properties.InputData");
    }
    const json& in = inputs->begin().value();
    LOTE_ASSIGN_OR_RETURN(out["input"], InputFromUri(StringAt(in, "Uri"), "properties.InputData." + inputs->begin().key() + ".Uri"));
    if (const json* outputs = FindKey(props, "OutputData"); outputs && outputs->is_object() && !outputs->empty()) {
      const json& o = outputs->begin().value();
      std::string uri = StringAt(o, "Uri");
      std::string field = "properties.OutputData." + outputs->begin().key() + ".Uri";
      if (!uri.starts_with("azureml://datastores/")) {
        return InvalidArgument("output Uri must be azureml://datastores/<name>/paths/<path>", field);
      }
      LOTE_ASSIGN_OR_RETURN(json loc, DatastoreUri(uri, field));
      std::string path = loc["path"];
      bool is_file = ToLower(StringAt(o, "JobOutputType")) == "urifile";
      if (is_file) {
        size_t slash = path.rfind('/');
        out["output"] = {{"datastore", loc["datastore"]},
                         {"path", slash == std::string::npos ? "" : path.substr(0, slash)},
                         {"file_name", slash == std::string::npos ? path : path.substr(slash + 1)}};
      } else {
        out["output"] = {{"datastore", loc["datastore"]}, {"path", path}};
      }
    }
    return out;
  }
  return InvalidArgument("properties must hold 'dataset' (2020-09) or 'InputData' (2022)", "properties");
}

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

}  // namespace

Result<json> ParseInvokeRequest(const json& body) {
  if (!body.is_object()) return InvalidArgument("invoke body must be a JSON object");
  json out = json::object();
  if (const json* props = FindKey(body, "properties")) {
    if (!props->is_object()) return InvalidArgument("properties must be an object", "properties");
    LOTE_TRY(ParseAzure(*props, out));
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
  const json& in = body["input"];
  int kinds = in.is_object() ? int(in.contains("data")) + int(in.contains("datastore")) + int(in.contains("uri")) : 0;
  if (kinds != 1) {
    return InvalidArgument("input must be exactly one of {data}, {datastore, path}, {uri}", "input");
  }
  if (in.contains("datastore")) {
    LOTE_TRY(CheckStringMembers(in, {"datastore", "path"}, "input", "datastore and path"));
  } else if (in.contains("data")) {
    LOTE_TRY(CheckStringMembers(in, {"data"}, "input", "data alone"));
  } else {
    LOTE_TRY(CheckStringMembers(in, {"uri"}, "input", "uri alone"));
  }
  out["input"] = in;
  if (in.contains("uri")) {
    LOTE_ASSIGN_OR_RETURN(out["input"], InputFromUri(in["uri"].get<std::string>(), "input.uri"));
  }
  if (body.contains("output")) {
    if (!body["output"].is_object()) return InvalidArgument("output must be an object", "output");
    LOTE_TRY(CheckStringMembers(body["output"], {"datastore", "path", "file_name"}, "output",
                                "datastore, path, file_name"));
    out["output"] = body["output"];
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
      "error_threshold", "logging_level", "output_file_name", "output_action"};
  for (auto& [key, value] : set.items()) {
    if (!kTunable.contains(key)) {
      return InvalidArgument("'" + key + "' cannot be overridden per job (allowed: mini_batch_size, "
                             "instance_count, max_concurrency_per_instance, retry_settings.max_retries, "
                             "retry_settings.timeout, error_threshold, logging_level, output_file_name, "
                             "output_action)", "set." + key);
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
