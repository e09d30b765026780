// Azure's invoke bodies, translated into lote's request (jobs/invoke_request.h):
//   2020-09 preview:  {"properties": {"dataset": {"dataInputType": "DataUrl", "Path": …},
//                                     "outputDataset": {"datastoreId", "path"}, "outputFileName"}}
//   2022-05 and later (GA): {"properties": {
//        "InputData":  {"<name>": {"JobInputType": "UriFolder", "Uri": …}},
//        "OutputData": {"<name>": {"JobOutputType": "UriFolder" | "UriFile", "Uri": "azureml://datastores/…"}},
//        "outputFileName": …, "miniBatchSize": …, "retrySettings": {"maxRetries", "timeout"},
//        "errorThreshold": …, "loggingLevel": …, "compute": {"instanceCount": …}}}
// Keys in any of Azure's spellings (InputData, inputData, input_data: invoke::KeyForm).
// Azure clients send keys lote has no use for (mode, description, tags,
// properties.properties): those are ignored; a key lote reads with a wrong
// type or value is refused, naming it as the client spelled it.
#include <charconv>

#include "common/util.h"
#include "jobs/invoke_forms.h"

namespace lote::jobs::invoke {

using nlohmann::json;

namespace {

std::string Sub(const std::string& where, const std::string& key) { return where + "." + key; }

// A string member; "" when absent or null, InvalidArgument for another type.
Result<std::string> OptString(const json& obj, std::string_view key, const std::string& where) {
  Member m = FindMember(obj, key);
  if (!m || m.value->is_null()) return std::string();
  if (!m.value->is_string()) {
    return InvalidArgument(Sub(where, m.key) + " must be a string, not " + std::string(m.value->type_name()),
                           Sub(where, m.key));
  }
  return m.value->get<std::string>();
}

// An object member; nullptr when absent or null.
Result<const json*> OptObject(const json& obj, std::string_view key, const std::string& where, std::string* field) {
  Member m = FindMember(obj, key);
  if (!m || m.value->is_null()) return static_cast<const json*>(nullptr);
  *field = Sub(where, m.key);
  if (!m.value->is_object()) {
    return InvalidArgument(*field + " must be an object, not " + std::string(m.value->type_name()), *field);
  }
  return m.value;
}

// "PT30S", "PT5M", "PT1H30M", or a plain number of seconds.
Result<int64_t> Seconds(const json& v, const std::string& field) {
  if (v.is_number_integer()) return v.get<int64_t>();
  auto bad = [&] {
    return InvalidArgument(field + " must be a number of seconds or an ISO 8601 duration such as 'PT30S', not " +
                               v.dump(),
                           field);
  };
  if (!v.is_string()) return bad();
  std::string_view s = v.get_ref<const std::string&>();
  if (!s.starts_with("PT") || s.size() < 4) return bad();
  s.remove_prefix(2);
  int64_t total = 0;
  while (!s.empty()) {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end == s.data() + s.size() || n < 0 || n > 1'000'000'000) return bad();
    const char unit = *end;
    const int64_t scale = unit == 'H' ? 3600 : unit == 'M' ? 60 : unit == 'S' ? 1 : 0;
    if (scale == 0) return bad();
    total += n * scale;
    s.remove_prefix(static_cast<size_t>(end - s.data()) + 1);
  }
  return total;
}

// The per-job settings of Azure's BatchJob, as lote's "set" overrides.
Status ParseSettings(const json& props, const std::string& where, json& out) {
  json set = json::object();
  auto integer = [&](const json& obj, std::string_view key, const std::string& in, const char* lote_key) -> Status {
    Member m = FindMember(obj, key);
    if (!m || m.value->is_null()) return {};
    if (!m.value->is_number_integer()) {
      return InvalidArgument(Sub(in, m.key) + " must be an integer, not " + m.value->dump(), Sub(in, m.key));
    }
    set[lote_key] = *m.value;
    return {};
  };
  LOTE_TRY(integer(props, "miniBatchSize", where, "mini_batch_size"));
  LOTE_TRY(integer(props, "errorThreshold", where, "error_threshold"));
  LOTE_ASSIGN_OR_RETURN(std::string level, OptString(props, "loggingLevel", where));
  if (!level.empty()) set["logging_level"] = level;
  std::string field;
  LOTE_ASSIGN_OR_RETURN(const json* retry, OptObject(props, "retrySettings", where, &field));
  if (retry) {
    LOTE_TRY(integer(*retry, "maxRetries", field, "retry_settings.max_retries"));
    if (Member t = FindMember(*retry, "timeout"); t && !t.value->is_null()) {
      LOTE_ASSIGN_OR_RETURN(set["retry_settings.timeout"], Seconds(*t.value, Sub(field, t.key)));
    }
  }
  LOTE_ASSIGN_OR_RETURN(const json* compute, OptObject(props, "compute", where, &field));
  if (compute) LOTE_TRY(integer(*compute, "instanceCount", field, "instance_count"));
  if (!set.empty()) out["set"] = set;
  return {};
}

// 2020-09: properties.dataset / outputDataset / outputFileName.
Status ParseDataset(const json& props, const Member& dataset, const std::string& where, json& out) {
  const std::string ds_field = Sub(where, dataset.key);
  if (!dataset.value->is_object()) return InvalidArgument(ds_field + " must be an object", ds_field);
  const json& ds = *dataset.value;
  LOTE_ASSIGN_OR_RETURN(std::string type, OptString(ds, "dataInputType", ds_field));
  if (type == "DatasetVersion" || type == "DatasetId") {
    LOTE_ASSIGN_OR_RETURN(std::string name, OptString(ds, "datasetName", ds_field));
    if (name.empty()) return InvalidArgument("DatasetVersion input needs datasetName", Sub(ds_field, "datasetName"));
    Member ver = FindMember(ds, "datasetVersion");
    std::string v = "latest";
    if (ver && !ver.value->is_null()) {
      if (!ver.value->is_string() && !ver.value->is_number_integer()) {
        return InvalidArgument(Sub(ds_field, ver.key) + " must be a string or an integer", Sub(ds_field, ver.key));
      }
      v = ver.value->is_string() ? ver.value->get<std::string>() : ver.value->dump();
    }
    out["input"] = {{"data", "azureml:" + name + (v == "latest" ? "@latest" : ":" + v)}};
  } else if (type.empty() || type == "DataUrl") {
    Member path = FindMember(ds, "path");
    const std::string path_field = Sub(ds_field, path ? path.key : "Path");
    LOTE_ASSIGN_OR_RETURN(std::string uri, OptString(ds, "path", ds_field));
    LOTE_ASSIGN_OR_RETURN(out["input"], InputFromUri(uri, path_field));
  } else {
    return InvalidArgument("dataInputType '" + type + "' is not one of DataUrl, DatasetVersion",
                           Sub(ds_field, "dataInputType"));
  }
  std::string od_field;
  LOTE_ASSIGN_OR_RETURN(const json* od, OptObject(props, "outputDataset", where, &od_field));
  if (od) {
    json o = json::object();
    LOTE_ASSIGN_OR_RETURN(std::string ds_id, OptString(*od, "datastoreId", od_field));
    if (!ds_id.empty()) {
      while (ds_id.ends_with("/")) ds_id.pop_back();
      size_t slash = ds_id.rfind('/');
      o["datastore"] = slash == std::string::npos ? ds_id : ds_id.substr(slash + 1);
    }
    LOTE_ASSIGN_OR_RETURN(std::string path, OptString(*od, "path", od_field));
    if (!path.empty()) o["path"] = path;
    out["output"] = o;
  }
  return {};
}

// 2022+: properties.InputData.<name> and OutputData.<name>.
Status ParseInputData(const json& props, const Member& inputs, const std::string& where, json& out) {
  const std::string in_field = Sub(where, inputs.key);
  if (!inputs.value->is_object() || inputs.value->size() != 1) {
    return InvalidArgument(in_field + " must be an object holding exactly one named input (a model deployment "
                                      "takes one), e.g. {\"heart_data\": {\"JobInputType\": \"UriFolder\", "
                                      "\"Uri\": …}}",
                           in_field);
  }
  const std::string name_field = Sub(in_field, inputs.value->begin().key());
  const json& in = inputs.value->begin().value();
  if (!in.is_object()) return InvalidArgument(name_field + " must be an object {JobInputType, Uri}", name_field);
  DataType type = DataType::kUnspecified;
  if (Member t = FindMember(in, "JobInputType"); t && !t.value->is_null()) {
    LOTE_ASSIGN_OR_RETURN(type, ParseDataType(*t.value, Sub(name_field, t.key)));
  }
  Member uri = FindMember(in, "Uri");
  const std::string uri_field = Sub(name_field, uri ? uri.key : "Uri");
  if (!uri || uri.value->is_null()) return InvalidArgument(name_field + " has no Uri", uri_field);
  LOTE_ASSIGN_OR_RETURN(std::string uri_text, OptString(in, "Uri", name_field));
  LOTE_ASSIGN_OR_RETURN(json input, InputFromUri(uri_text, uri_field));
  LOTE_ASSIGN_OR_RETURN(out["input"], TypedInput(std::move(input), type, uri_field));

  Member outputs = FindMember(props, "OutputData");
  if (!outputs || outputs.value->is_null()) return {};
  const std::string out_field = Sub(where, outputs.key);
  if (!outputs.value->is_object() || outputs.value->size() > 1) {
    return InvalidArgument(out_field + " must be an object holding at most one named output, e.g. {\"score\": "
                                       "{\"JobOutputType\": \"UriFolder\", \"Uri\": \"azureml://datastores/"
                                       "<name>/paths/<path>\"}}",
                           out_field);
  }
  if (outputs.value->empty()) return {};
  const std::string oname_field = Sub(out_field, outputs.value->begin().key());
  const json& o = outputs.value->begin().value();
  if (!o.is_object()) return InvalidArgument(oname_field + " must be an object {JobOutputType, Uri}", oname_field);
  DataType out_type = DataType::kUnspecified;
  if (Member t = FindMember(o, "JobOutputType"); t && !t.value->is_null()) {
    LOTE_ASSIGN_OR_RETURN(out_type, ParseDataType(*t.value, Sub(oname_field, t.key)));
  }
  Member ouri = FindMember(o, "Uri");
  const std::string ouri_field = Sub(oname_field, ouri ? ouri.key : "Uri");
  if (!ouri || ouri.value->is_null()) return InvalidArgument(oname_field + " has no Uri", ouri_field);
  LOTE_ASSIGN_OR_RETURN(std::string ouri_text, OptString(o, "Uri", oname_field));
  LOTE_ASSIGN_OR_RETURN(json loc, DatastoreFromUri(ouri_text, ouri_field));
  std::string path = loc["path"];
  while (path.ends_with("/")) path.pop_back();
  if (out_type == DataType::kFile) {
    size_t slash = path.rfind('/');
    std::string file = slash == std::string::npos ? path : path.substr(slash + 1);
    if (file.empty()) return InvalidArgument(ouri_field + " is a uri_file output but names no file", ouri_field);
    out["output"] = {{"datastore", loc["datastore"]},
                     {"path", slash == std::string::npos ? "" : path.substr(0, slash)},
                     {"file_name", file}};
  } else {
    out["output"] = {{"datastore", loc["datastore"]}, {"path", path}};
  }
  return {};
}

}  // namespace

Result<json> ParseAzureProperties(const json& props, const std::string& where) {
  json out = json::object();
  if (Member dataset = FindMember(props, "dataset"); dataset && !dataset.value->is_null()) {
    LOTE_TRY(ParseDataset(props, dataset, where, out));
  } else if (Member inputs = FindMember(props, "InputData"); inputs && !inputs.value->is_null()) {
    LOTE_TRY(ParseInputData(props, inputs, where, out));
  } else {
    return InvalidArgument(where + " must hold 'InputData' (Azure's GA body) or 'dataset' (2020-09 preview)", where);
  }
  Member file = FindMember(props, "outputFileName");
  LOTE_ASSIGN_OR_RETURN(std::string file_name, OptString(props, "outputFileName", where));
  if (!file_name.empty()) {
    if (out.contains("output") && out["output"].contains("file_name") && out["output"]["file_name"] != file_name) {
      return InvalidArgument(Sub(where, file.key) + " '" + file_name + "' contradicts the uri_file output's name " +
                                 out["output"]["file_name"].dump(),
                             Sub(where, file.key));
    }
    out["output"]["file_name"] = file_name;
  }
  LOTE_TRY(ParseSettings(props, where, out));
  return out;
}

}  // namespace lote::jobs::invoke
