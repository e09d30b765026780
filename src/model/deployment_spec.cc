// NormalizeDeployment: a batch deployment (docs/resources.md, "deployment").
#include <charconv>

#include "model/names.h"
#include "model/spec_util.h"
#include "model/specs.h"
#include "model/yaml_doc.h"

namespace lote::model {
namespace {

using internal::Json;
using internal::Lower;
using internal::ObjectReader;
using internal::Quote;
using internal::Show;
using internal::Trim;

// Upper bounds that catch typos before they start thousands of processes.
constexpr int64_t kMaxInstances = 1024;
constexpr int64_t kMaxConcurrency = 1024;
constexpr int64_t kMaxRetries = 1000;

const std::vector<std::string_view> kDeploymentKeys = {
    "$schema", "name", "type", "description", "model", "code_configuration", "environment",
    "compute", "resources", "mini_batch_size", "max_concurrency_per_instance", "output_action",
    "output_file_name", "retry_settings", "error_threshold", "logging_level",
    "environment_variables", "settings", "tags", "output_layout", "output_format", "passthrough_columns"};
// The GA schema's `settings:` block holds the job settings the preview kept
// at the top level; either place is read (not both for one key).
const std::vector<std::string_view> kSettingsKeys = {
    "max_concurrency_per_instance", "mini_batch_size", "output_action", "output_file_name",
    "retry_settings", "error_threshold", "logging_level", "environment_variables",
    "output_layout", "output_format", "passthrough_columns"};
const std::vector<std::string_view> kDeploymentServerKeys = {
    "created_at", "updated_at", "id", "provisioning_state", "endpoint_name"};

Result<Json> Model(const ObjectReader& r) {
  const Json* v = r.Get("model");
  if (!v) return InvalidArgument("model is required", r.Field("model"));
  if (v->is_string()) {
    auto ref = ParseModelRef(v->get<std::string>());
    if (!ref) return InvalidArgument(ref.error().message(), r.Field("model"));
    return Json(ref->ToString());
  }
  if (v->is_object()) return internal::NormalizeInlineModel(*v, r.Field("model"), "model");
  return InvalidArgument(
      "model must be a reference such as 'azureml:autolog:1' or a mapping {name, version, "
      "local_path}, got " + Show(*v),
      r.Field("model"));
}

Result<Json> CodeConfiguration(const ObjectReader& parent) {
  const Json* v = parent.Get("code_configuration");
  if (!v) return Json(nullptr);
  LOTE_ASSIGN_OR_RETURN(auto r, ObjectReader::Open(*v, "code_configuration",
                                                   parent.Field("code_configuration"),
                                                   "code_configuration",
                                                   {"code", "scoring_script", "native_library"}));
  Json out = Json::object();
  const Json* code = r.Get("code");
  if (!code) return InvalidArgument("code_configuration.code is required", r.Field("code"));
  if (code->is_string()) {
    if (code->get_ref<const std::string&>().empty()) {
      return InvalidArgument("code_configuration.code is empty", r.Field("code"));
    }
    out["code"] = *code;
  } else if (code->is_object()) {
    LOTE_ASSIGN_OR_RETURN(auto c, ObjectReader::Open(*code, "code_configuration.code",
                                                     r.Field("code"), "code_configuration.code",
                                                     {"local_path", "upload_id"}));
    if (c.Has("local_path") == c.Has("upload_id")) {
      return InvalidArgument("code_configuration.code needs exactly one of local_path, upload_id",
                             r.Field("code"));
    }
    std::string_view key = c.Has("local_path") ? "local_path" : "upload_id";
    LOTE_ASSIGN_OR_RETURN(std::string s, c.RequiredString(key));
    out["code"] = Json{{std::string(key), s}};
  } else {
    return InvalidArgument("code_configuration.code must be a folder path or {local_path: ...}, "
                           "got " + Show(*code),
                           r.Field("code"));
  }
  // A score.py for the Python runner, or a shared library for the native
  // worker's plugin ABI (include/lote/plugin.h): exactly one.
  if (r.Has("scoring_script") == r.Has("native_library")) {
    return InvalidArgument("code_configuration needs exactly one of scoring_script (a Python "
                           "script) or native_library (a plugin .so)",
                           r.Field(r.Has("native_library") ? "native_library" : "scoring_script"));
  }
  std::string_view key = r.Has("scoring_script") ? "scoring_script" : "native_library";
  LOTE_ASSIGN_OR_RETURN(std::string file, r.RequiredString(key));
  LOTE_TRY(internal::CheckRelativePath(file, "code_configuration." + std::string(key), r.Field(key)));
  out[std::string(key)] = file;
  return out;
}

Result<Json> Environment(const ObjectReader& parent) {
  const Json* v = parent.Get("environment");
  if (!v) return Json(nullptr);
  if (v->is_string()) {
    if (Trim(v->get_ref<const std::string&>()).empty()) {
      return InvalidArgument("environment is empty", parent.Field("environment"));
    }
    return *v;  // a registered environment, recorded as given
  }
  LOTE_ASSIGN_OR_RETURN(auto r, ObjectReader::Open(*v, "environment", parent.Field("environment"),
                                                   "environment",
                                                   {"name", "version", "path", "conda_file",
                                                    "docker", "image", "build", "python",
                                                    "description"}));
  Json out = Json::object();
  if (r.Has("name")) {
    LOTE_ASSIGN_OR_RETURN(std::string name, r.RequiredString("name"));
    LOTE_TRY(ValidateAssetName(name, "environment", r.Field("name")));
    out["name"] = name;
  }
  LOTE_ASSIGN_OR_RETURN(auto version, r.Version("version", "environment"));
  if (version) out["version"] = *version;
  for (std::string_view key : {"path", "image", "description"}) {
    LOTE_ASSIGN_OR_RETURN(auto s, r.OptionalString(key));
    if (s) out[std::string(key)] = *s;
  }
  if (const Json* conda = r.Get("conda_file")) {
    if (!conda->is_string() && !conda->is_object()) {
      return InvalidArgument("environment.conda_file must be a path (file:...) or a mapping, got " +
                                 Show(*conda),
                             r.Field("conda_file"));
    }
    out["conda_file"] = *conda;
  }
  if (const Json* build = r.Get("build")) {
    if (!build->is_string() && !build->is_object()) {
      return InvalidArgument("environment.build must be a path or a mapping, got " + Show(*build),
                             r.Field("build"));
    }
    out["build"] = *build;
  }
  if (const Json* docker = r.Get("docker")) {
    LOTE_ASSIGN_OR_RETURN(auto d, ObjectReader::Open(*docker, "environment.docker",
                                                     r.Field("docker"), "environment.docker",
                                                     {"image", "build"}));
    Json dout = Json::object();
    LOTE_ASSIGN_OR_RETURN(auto image, d.OptionalString("image"));
    if (image) dout["image"] = *image;
    if (const Json* build = d.Get("build")) dout["build"] = *build;
    out["docker"] = std::move(dout);
  }
  // Only an explicit `python` picks the interpreter: an inline Azure
  // environment ({name, image, conda_file}) leaves the server's (LOTE_PYTHON).
  LOTE_ASSIGN_OR_RETURN(auto python, r.OptionalString("python"));
  if (python) {
    if (Trim(*python).empty()) return InvalidArgument("environment.python is empty", r.Field("python"));
    out["python"] = *python;
  }
  return out;
}

// compute {target, instance_count}, or GA `compute: <ref>` + `resources`.
Result<Json> Compute(const ObjectReader& parent) {
  const Json* v = parent.Get("compute");
  std::string target;
  std::optional<int64_t> count;
  std::string target_field = JoinField(parent.Field("compute"), "target");
  if (v && v->is_string()) {
    target = v->get<std::string>();
    target_field = parent.Field("compute");
  } else if (v) {
    LOTE_ASSIGN_OR_RETURN(auto r, ObjectReader::Open(*v, "compute", parent.Field("compute"),
                                                     "compute", {"target", "instance_count"}));
    LOTE_ASSIGN_OR_RETURN(auto t, r.OptionalString("target"));
    if (t) target = *t;
    if (r.Has("instance_count")) {
      LOTE_ASSIGN_OR_RETURN(count, r.Int("instance_count", 1, 1, kMaxInstances));
    }
  }
  if (target.empty()) return InvalidArgument("compute.target is required", target_field);
  auto name = ParseComputeRef(target);
  if (!name) return InvalidArgument(name.error().message(), target_field);

  if (const Json* res = parent.Get("resources")) {
    LOTE_ASSIGN_OR_RETURN(auto r, ObjectReader::Open(*res, "resources", parent.Field("resources"),
                                                     "resources",
                                                     {"instance_count", "instance_type"}));
    if (r.Has("instance_count")) {
      LOTE_ASSIGN_OR_RETURN(int64_t n, r.Int("instance_count", 1, 1, kMaxInstances));
      if (count && *count != n) {
        return InvalidArgument("resources.instance_count (" + std::to_string(n) +
                                   ") disagrees with compute.instance_count (" +
                                   std::to_string(*count) + "); give one of them",
                               r.Field("instance_count"));
      }
      count = n;
    }
  }
  return Json{{"target", "azureml:" + *name}, {"instance_count", count.value_or(1)}};
}

// A positive file count, or a byte size kept as "<n><unit>".
Result<Json> MiniBatchSize(const ObjectReader& r) {
  const Json* v = r.Get("mini_batch_size");
  if (!v) return Json(10);
  auto bad = [&] {
    return InvalidArgument("mini_batch_size must be a positive number of files or a size such "
                           "as '64MB', got " + Show(*v),
                           r.Field("mini_batch_size"));
  };
  if (v->is_boolean() || v->is_object() || v->is_array()) return bad();
  if (v->is_number()) {
    auto n = internal::ToInt(*v, "mini_batch_size", r.Field("mini_batch_size"));
    if (!n || *n <= 0) return bad();
    return Json(*n);
  }
  std::string_view s = Trim(v->get_ref<const std::string&>());
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  if (digits == 0) return bad();
  auto bytes = ParseByteSize(s);
  if (!bytes || *bytes == 0) return bad();
  std::string unit = Lower(Trim(s.substr(digits)));
  if (unit.empty()) {
    // Digits only: a count of files, as the number would be.
    uint64_t n = 0;
    std::from_chars(s.data(), s.data() + digits, n);
    if (n > static_cast<uint64_t>(INT64_MAX)) return bad();
    return Json(static_cast<int64_t>(n));
  }
  std::string canonical = unit == "b" ? "B" : std::string(1, static_cast<char>(unit[0] - 32)) + "B";
  // Drop leading zeros so "064MB" and "64MB" store the same.
  std::string_view num = s.substr(0, digits);
  while (num.size() > 1 && num.front() == '0') num.remove_prefix(1);
  return Json(std::string(num) + canonical);
}

Result<std::string> OutputAction(const ObjectReader& r) {
  LOTE_ASSIGN_OR_RETURN(std::string s, r.String("output_action", "append_row"));
  std::string key;
  for (char c : Lower(Trim(s))) {
    if (c != '_' && c != '-') key += c;
  }
  if (key == "appendrow") return std::string("append_row");
  if (key == "summaryonly") return std::string("summary_only");
  return InvalidArgument("output_action must be append_row or summary_only, got " + Quote(s),
                         r.Field("output_action"));
}

Result<std::string> OutputFileName(const ObjectReader& r) {
  LOTE_ASSIGN_OR_RETURN(std::string s, r.String("output_file_name", "predictions.csv"));
  std::string_view why;
  if (Trim(s).empty()) why = "is empty";
  else if (s.find_first_of("/\\") != std::string::npos) why = "must be a file name, not a path";
  else if (s.find("..") != std::string::npos) why = "must not contain '..'";
  else if (s.find('\0') != std::string::npos) why = "contains a NUL character";
  if (why.empty()) return s;
  return InvalidArgument("output_file_name " + Quote(s) + " " + std::string(why),
                         r.Field("output_file_name"));
}

// How no-code deployments write the output file (docs/azure-output.md):
// lote's real CSV with a header (file,row,prediction…), or Azure's MLflow
// driver's rows (row,prediction…,file) with no header.
Result<std::string> OutputLayout(const ObjectReader& r) {
  LOTE_ASSIGN_OR_RETURN(std::string s, r.String("output_layout", "lote"));
  std::string layout = Lower(Trim(s));
  if (layout == "lote" || layout == "azure") return layout;
  return InvalidArgument("output_layout must be lote or azure, got " + Quote(s), r.Field("output_layout"));
}

// The output file's format (docs/parquet.md, "Parquet output"): lote's CSV,
// or the same rows as Parquet or JSON Lines. Only no-code deployments, whose
// rows lote writes, may choose another; a score.py's rows are its own.
Result<std::string> OutputFormat(const ObjectReader& r, bool has_code) {
  LOTE_ASSIGN_OR_RETURN(std::string s, r.String("output_format", "csv"));
  std::string format = Lower(Trim(s));
  if (format != "csv" && format != "parquet" && format != "jsonl") {
    return InvalidArgument("output_format must be csv, parquet or jsonl, got " + Quote(s), r.Field("output_format"));
  }
  if (format != "csv" && has_code) {
    return InvalidArgument("output_format " + format + " is for no-code deployments (an MLflow or XGBoost or "
                           "TorchScript model without code_configuration), whose rows lote writes; a "
                           "scoring script's run() returns its own rows, written as CSV: drop output_format "
                           "or write " + format + " from the script",
                           r.Field("output_format"));
  }
  return format;
}

// Input columns copied into a no-code deployment's output beside the
// predictions (docs/jobs.md): a list of column names, in output order, or
// "*" for every input column. A string other than "*" is a comma-separated
// list (what `--set passthrough_columns=a,b` gives). Absent: null.
constexpr size_t kMaxPassthroughColumns = 1000;
constexpr size_t kMaxPassthroughName = 1024;

Result<Json> PassthroughColumns(const ObjectReader& r) {
  const Json* v = r.Get("passthrough_columns");
  const std::string field = r.Field("passthrough_columns");
  if (!v || v->is_null()) return Json(nullptr);
  const std::string usage = "passthrough_columns must be \"*\" or a list of input column names";
  std::vector<std::string> names;
  if (v->is_string()) {
    const std::string s = v->get<std::string>();
    if (Trim(s) == "*") return Json("*");
    size_t start = 0;
    while (true) {
      const size_t comma = s.find(',', start);
      names.emplace_back(Trim(s.substr(start, comma == std::string::npos ? std::string::npos
                                                                           : comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else if (v->is_array()) {
    for (const Json& n : *v) {
      if (!n.is_string()) {
        return InvalidArgument(usage + ", got an element " + Show(n), field);
      }
      names.push_back(n.get<std::string>());
    }
    if (names.size() == 1 && names[0] == "*") return Json("*");
  } else {
    return InvalidArgument(usage + ", got " + Show(*v), field);
  }
  if (names.empty()) return InvalidArgument(usage + ", got an empty list", field);
  if (names.size() > kMaxPassthroughColumns) {
    return InvalidArgument("passthrough_columns names " + std::to_string(names.size()) +
                               " columns; at most " + std::to_string(kMaxPassthroughColumns),
                           field);
  }
  Json out = Json::array();
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& n = names[i];
    const std::string at = field + "[" + std::to_string(i) + "]";
    if (n.empty()) return InvalidArgument("passthrough_columns: a column name is empty", at);
    if (n == "*") {
      return InvalidArgument("passthrough_columns: \"*\" (every column) stands alone, not in a "
                             "list of names", at);
    }
    if (n.size() > kMaxPassthroughName) {
      return InvalidArgument("passthrough_columns: a column name is longer than " +
                                 std::to_string(kMaxPassthroughName) + " bytes",
                             at);
    }
    if (n.find('\0') != std::string::npos) {
      return InvalidArgument("passthrough_columns: column name " + Quote(n) +
                                 " contains a NUL character", at);
    }
    for (size_t j = 0; j < i; ++j) {
      if (names[j] == n) {
        return InvalidArgument("passthrough_columns: column " + Quote(n) + " is named twice", at);
      }
    }
    out.push_back(n);
  }
  return out;
}

Result<Json> RetrySettings(const ObjectReader& parent) {
  Json out = {{"max_retries", 3}, {"timeout", 30}};
  const Json* v = parent.Get("retry_settings");
  if (!v) return out;
  LOTE_ASSIGN_OR_RETURN(auto r, ObjectReader::Open(*v, "retry_settings",
                                                   parent.Field("retry_settings"),
                                                   "retry_settings", {"max_retries", "timeout"}));
  LOTE_ASSIGN_OR_RETURN(out["max_retries"], r.Int("max_retries", 3, 0, kMaxRetries));
  if (const Json* t = r.Get("timeout")) {
    LOTE_ASSIGN_OR_RETURN(out["timeout"], internal::ParseTimeout(*t, "retry_settings.timeout",
                                                                 r.Field("timeout")));
  }
  return out;
}

Result<std::string> LoggingLevel(const ObjectReader& r) {
  LOTE_ASSIGN_OR_RETURN(std::string s, r.String("logging_level", "info"));
  std::string level = Lower(Trim(s));
  if (level == "warning" || level == "info" || level == "debug") return level;
  return InvalidArgument("logging_level must be warning, info or debug, got " + Quote(s),
                         r.Field("logging_level"));
}

bool IsEnvName(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_';
    if (!ok) return false;
  }
  return true;
}

// A map of name -> scalar; scalars become strings (null becomes "").
Result<Json> EnvironmentVariables(const ObjectReader& r) {
  const Json* v = r.Get("environment_variables");
  Json out = Json::object();
  if (!v) return out;
  if (!v->is_object()) {
    return InvalidArgument("environment_variables must be a mapping of NAME: value, got " +
                               Show(*v),
                           r.Field("environment_variables"));
  }
  for (const auto& [name, value] : v->items()) {
    std::string field = JoinField(r.Field("environment_variables"), name);
    if (!IsEnvName(name)) {
      return InvalidArgument("environment variable name " + Quote(name) +
                                 " is invalid: use letters, digits and '_', not starting with a "
                                 "digit",
                             field);
    }
    if (value.is_string()) {
      out[name] = value;
    } else if (value.is_null()) {
      out[name] = "";
    } else if (value.is_number_float()) {
      char buf[64];
      auto [p, ec] = std::to_chars(buf, buf + sizeof buf, value.get<double>());
      out[name] = ec == std::errc() ? std::string(buf, p) : value.dump();
    } else if (value.is_primitive()) {
      out[name] = value.dump();  // integers, booleans
    } else {
      return InvalidArgument("environment variable " + Quote(name) +
                                 " must be a string or a number, got " + Show(value),
                             field);
    }
  }
  return out;
}

}  // namespace

Result<nlohmann::json> NormalizeDeployment(const nlohmann::json& in, std::string_view at) {
  LOTE_ASSIGN_OR_RETURN(auto r, ObjectReader::Open(in, "deployment", std::string(at), "",
                                                   kDeploymentKeys, kDeploymentServerKeys));
  Json out = Json::object();
  LOTE_ASSIGN_OR_RETURN(std::string name, r.RequiredString("name"));
  LOTE_TRY(ValidateResourceName(name, "deployment", r.Field("name")));
  out["name"] = name;
  LOTE_ASSIGN_OR_RETURN(auto type, r.OptionalString("type"));
  if (type) {
    std::string t = Lower(Trim(*type));
    if (t == "pipeline") {
      return InvalidArgument("deployment type 'pipeline' (a pipeline component deployment) is not "
                             "supported: lote deploys models; use type: model, with "
                             "code_configuration for custom scoring logic",
                             r.Field("type"));
    }
    if (t != "batch" && t != "model") {
      return InvalidArgument("deployment type " + Quote(*type) +
                                 " is not supported: lote serves batch model deployments "
                                 "(type: model)",
                             r.Field("type"));
    }
  }
  std::optional<ObjectReader> settings;
  if (const Json* v = r.Get("settings")) {
    LOTE_ASSIGN_OR_RETURN(settings, ObjectReader::Open(*v, "settings", r.Field("settings"),
                                                       "settings", kSettingsKeys));
    for (std::string_view key : kSettingsKeys) {
      if (settings->Has(key) && r.Has(key)) {
        return InvalidArgument(std::string(key) + " is given twice, at the top level and in "
                                   "settings; give it once",
                               settings->Field(key));
      }
    }
  }
  // Where a job setting is read from: the settings block when it has it.
  auto from = [&](std::string_view key) -> const ObjectReader& {
    return settings && settings->Has(key) ? *settings : r;
  };
  LOTE_ASSIGN_OR_RETURN(out["description"], r.String("description"));
  LOTE_ASSIGN_OR_RETURN(Json tags, internal::Tags(r));
  if (!tags.empty()) out["tags"] = std::move(tags);
  LOTE_ASSIGN_OR_RETURN(out["model"], Model(r));
  LOTE_ASSIGN_OR_RETURN(out["code_configuration"], CodeConfiguration(r));
  LOTE_ASSIGN_OR_RETURN(out["environment"], Environment(r));
  LOTE_ASSIGN_OR_RETURN(out["compute"], Compute(r));
  LOTE_ASSIGN_OR_RETURN(out["mini_batch_size"], MiniBatchSize(from("mini_batch_size")));
  LOTE_ASSIGN_OR_RETURN(out["max_concurrency_per_instance"],
                        from("max_concurrency_per_instance")
                            .Int("max_concurrency_per_instance", 1, 1, kMaxConcurrency));
  LOTE_ASSIGN_OR_RETURN(out["output_action"], OutputAction(from("output_action")));
  LOTE_ASSIGN_OR_RETURN(out["output_file_name"], OutputFileName(from("output_file_name")));
  LOTE_ASSIGN_OR_RETURN(out["output_layout"], OutputLayout(from("output_layout")));
  // Shown only when it is not the default, so deployments stored before it
  // existed read the same.
  LOTE_ASSIGN_OR_RETURN(std::string output_format,
                        OutputFormat(from("output_format"), out["code_configuration"].is_object()));
  if (output_format != "csv") out["output_format"] = output_format;
  LOTE_ASSIGN_OR_RETURN(Json passthrough, PassthroughColumns(from("passthrough_columns")));
  if (!passthrough.is_null()) {
    if (out["code_configuration"].is_object()) {
      return InvalidArgument(
          "passthrough_columns copies input columns into the rows of no-code deployments; this "
          "deployment's code_configuration writes its own rows: copy the columns in its run()",
          from("passthrough_columns").Field("passthrough_columns"));
    }
    out["passthrough_columns"] = std::move(passthrough);
  }
  LOTE_ASSIGN_OR_RETURN(out["retry_settings"], RetrySettings(from("retry_settings")));
  LOTE_ASSIGN_OR_RETURN(out["error_threshold"],
                        from("error_threshold").Int("error_threshold", -1, -1));
  LOTE_ASSIGN_OR_RETURN(out["logging_level"], LoggingLevel(from("logging_level")));
  LOTE_ASSIGN_OR_RETURN(out["environment_variables"],
                        EnvironmentVariables(from("environment_variables")));
  return out;
}

}  // namespace lote::model
