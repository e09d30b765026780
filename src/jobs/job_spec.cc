#include "jobs/job_spec.h"

#include "model/specs.h"

namespace lote::jobs {

using nlohmann::json;

namespace {

Error Bad(const std::string& field, const std::string& why) {
  return Internal("job document: '" + field + "' " + why);
}

const json* Find(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

Result<std::string> Str(const json& obj, const char* key, const std::string& path) {
  const json* v = Find(obj, key);
  if (!v || !v->is_string()) return Bad(path + key, "is missing or not a string");
  return v->get<std::string>();
}

Result<int64_t> Int(const json& obj, const char* key, const std::string& path, int64_t lo, int64_t hi) {
  const json* v = Find(obj, key);
  if (!v || !v->is_number_integer()) return Bad(path + key, "is missing or not an integer");
  int64_t n = v->get<int64_t>();
  if (n < lo || n > hi) return Bad(path + key, "is out of range");
  return n;
}

}  // namespace

Result<JobSpec> ParseJobSpec(const json& doc) {
  JobSpec s;
  LOTE_ASSIGN_OR_RETURN(s.name, Str(doc, "name", ""));
  LOTE_ASSIGN_OR_RETURN(s.endpoint, Str(doc, "endpoint", ""));
  LOTE_ASSIGN_OR_RETURN(s.deployment, Str(doc, "deployment", ""));

  const json* in = Find(doc, "input");
  if (!in) return Bad("input", "is missing");
  LOTE_ASSIGN_OR_RETURN(std::string kind, Str(*in, "kind", "input."));
  if (kind == "url") {
    s.input.kind = JobInput::Kind::kUrl;
    LOTE_ASSIGN_OR_RETURN(s.input.url, Str(*in, "url", "input."));
  } else if (kind == "path") {
    s.input.kind = JobInput::Kind::kPath;
    LOTE_ASSIGN_OR_RETURN(s.input.path, Str(*in, "path", "input."));
  } else {
    return Bad("input.kind", "is '" + kind + "', not path or url");
  }
  LOTE_ASSIGN_OR_RETURN(s.input.description, Str(*in, "description", "input."));

  const json* out = Find(doc, "output");
  if (!out) return Bad("output", "is missing");
  LOTE_ASSIGN_OR_RETURN(s.output.datastore, Str(*out, "datastore", "output."));
  LOTE_ASSIGN_OR_RETURN(s.output.path, Str(*out, "path", "output."));
  LOTE_ASSIGN_OR_RETURN(s.output.file_name, Str(*out, "file_name", "output."));
  LOTE_ASSIGN_OR_RETURN(s.output.uri, Str(*out, "uri", "output."));
  LOTE_ASSIGN_OR_RETURN(s.output.local_path, Str(*out, "local_path", "output."));
  LOTE_ASSIGN_OR_RETURN(s.output.local_dir, Str(*out, "local_dir", "output."));
  if (Find(*out, "root")) {
    LOTE_ASSIGN_OR_RETURN(s.output.root, Str(*out, "root", "output."));
    LOTE_ASSIGN_OR_RETURN(s.output.rel_dir, Str(*out, "rel", "output."));
  }

  const json* st = Find(doc, "settings");
  if (!st) return Bad("settings", "is missing");
  const std::string p = "settings.";
  const json* mbs = Find(*st, "mini_batch_size");
  if (mbs && mbs->is_number_integer() && mbs->get<int64_t>() > 0) {
    s.settings.mini_batch_files = mbs->get<int64_t>();
  } else if (mbs && mbs->is_string()) {
    auto bytes = model::ParseByteSize(mbs->get<std::string>());
    if (!bytes || *bytes == 0) return Bad(p + "mini_batch_size", "is not a byte size");
    s.settings.mini_batch_bytes = *bytes;
  } else {
    return Bad(p + "mini_batch_size", "is missing or not a count or a byte size");
  }
  constexpr int64_t kMaxInt = 1 << 30;
  LOTE_ASSIGN_OR_RETURN(int64_t instances, Int(*st, "instance_count", p, 1, kMaxInt));
  LOTE_ASSIGN_OR_RETURN(int64_t concurrency, Int(*st, "max_concurrency_per_instance", p, 1, kMaxInt));
  LOTE_ASSIGN_OR_RETURN(int64_t retries, Int(*st, "max_retries", p, 0, kMaxInt));
  LOTE_ASSIGN_OR_RETURN(int64_t timeout, Int(*st, "timeout_s", p, 1, kMaxInt));
  LOTE_ASSIGN_OR_RETURN(s.settings.error_threshold, Int(*st, "error_threshold", p, -1, INT64_MAX));
  s.settings.instance_count = static_cast<int>(instances);
  s.settings.max_concurrency_per_instance = static_cast<int>(concurrency);
  s.settings.max_retries = static_cast<int>(retries);
  s.settings.timeout_s = static_cast<int>(timeout);
  LOTE_ASSIGN_OR_RETURN(s.settings.logging_level, Str(*st, "logging_level", p));
  LOTE_ASSIGN_OR_RETURN(std::string action, Str(*st, "output_action", p));
  s.settings.summary_only = action == "summary_only";
  if (auto f = st->find("output_format"); f != st->end()) {
    auto format = f->is_string() ? ParseOutputFormat(f->get<std::string>()) : Result<OutputFormat>(InvalidArgument(""));
    if (!format) return Bad(p + "output_format", "is not csv, parquet or jsonl");
    s.settings.output_format = *format;
  }
  LOTE_ASSIGN_OR_RETURN(s.settings.compute, Str(*st, "compute", p));
  // Jobs of versions before compute types recorded only the compute's name
  // (and ran locally).
  s.compute.name = s.settings.compute;
  if (auto t = doc.find("compute_target"); t != doc.end()) {
    auto target = compute::ParseComputeTarget(*t);
    if (!target) return Internal("the job's compute_target is malformed: " + target.error().message());
    s.compute = *target;
  }
  if (const json* access = Find(doc, "access")) {
    for (auto [key, mode] : {std::pair{"artifacts", &s.access.artifacts}, std::pair{"inputs", &s.access.inputs}}) {
      LOTE_ASSIGN_OR_RETURN(std::string name, Str(*access, key, "access."));
      auto parsed = ParseAccessMode(name);
      if (!parsed) return Bad(std::string("access.") + key, "is '" + name + "', not direct or remote");
      *mode = *parsed;
    }
  }
  s.doc = doc;
  return s;
}

}  // namespace lote::jobs
