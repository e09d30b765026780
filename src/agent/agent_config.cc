#include "agent/agent_config.h"

namespace lote::agent {

using nlohmann::json;

namespace {

Result<const json*> Member(const json& obj, const std::string& key, const std::string& where,
                           bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return InvalidArgument("missing", where + key);
    return static_cast<const json*>(nullptr);
  }
  return &*it;
}

Result<std::string> String(const json& obj, const std::string& key, const std::string& where) {
  LOTE_ASSIGN_OR_RETURN(const json* v, Member(obj, key, where, true));
  if (!v->is_string() || v->get<std::string>().empty()) {
    return InvalidArgument("must be a non-empty string", where + key);
  }
  return v->get<std::string>();
}

Result<std::optional<std::string>> OptionalString(const json& obj, const std::string& key,
                                                  const std::string& where) {
  LOTE_ASSIGN_OR_RETURN(const json* v, Member(obj, key, where, false));
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return InvalidArgument("must be a string or null", where + key);
  return std::optional<std::string>(v->get<std::string>());
}

Status Int(const json& obj, const std::string& key, const std::string& where, int min, int* out) {
  LOTE_ASSIGN_OR_RETURN(const json* v, Member(obj, key, where, false));
  if (v == nullptr) return {};  // keep the default
  if (!v->is_number_integer() || v->get<int64_t>() < min || v->get<int64_t>() > 1'000'000) {
    return InvalidArgument("must be an integer >= " + std::to_string(min), where + key);
  }
  *out = v->get<int>();
  return {};
}

}  // namespace

bool AgentConfig::JobEnded() const {
  return status == "Completed" || status == "Failed" || status == "Canceled" ||
         status == "CancelRequested";
}

Result<AgentConfig> ParseAgentConfig(const json& body) {
  if (!body.is_object()) return InvalidArgument("agent-config is not a JSON object");
  AgentConfig c;
  LOTE_ASSIGN_OR_RETURN(c.job, String(body, "job", ""));
  if (auto s = body.find("status"); s != body.end() && s->is_string()) c.status = *s;
  LOTE_ASSIGN_OR_RETURN(c.output_dir, String(body, "output_dir", ""));
  LOTE_ASSIGN_OR_RETURN(c.log_dir, String(body, "log_dir", ""));

  LOTE_ASSIGN_OR_RETURN(const json* rt, Member(body, "runtime", "", true));
  if (!rt->is_object()) return InvalidArgument("must be an object", "runtime");
  LOTE_ASSIGN_OR_RETURN(c.runtime_kind, String(*rt, "kind", "runtime."));
  if (c.runtime_kind != "python" && c.runtime_kind != "native") {
    return InvalidArgument("runtime '" + c.runtime_kind +
                               "' is not supported by this agent (it runs 'python' and 'native')",
                           "runtime.kind");
  }
  if (c.runtime_kind == "python") {
    LOTE_ASSIGN_OR_RETURN(auto python, OptionalString(*rt, "python", "runtime."));
    if (python && !python->empty()) c.python = *python;
    LOTE_ASSIGN_OR_RETURN(c.runner, String(*rt, "runner", "runtime."));
  }
  LOTE_ASSIGN_OR_RETURN(c.code_dir, OptionalString(*rt, "code_dir", "runtime."));
  LOTE_ASSIGN_OR_RETURN(c.scoring_script, OptionalString(*rt, "scoring_script", "runtime."));
  LOTE_ASSIGN_OR_RETURN(c.model_dir, String(*rt, "model_dir", "runtime."));
  if (auto o = rt->find("options"); o != rt->end() && !o->is_null()) {
    if (!o->is_object()) return InvalidArgument("must be an object", "runtime.options");
    c.runtime_options = *o;
  }

  LOTE_ASSIGN_OR_RETURN(const json* st, Member(body, "settings", "", false));
  if (st != nullptr) {
    if (!st->is_object()) return InvalidArgument("must be an object", "settings");
    LOTE_TRY(Int(*st, "max_concurrency_per_instance", "settings.", 1,
                 &c.max_concurrency_per_instance));
    LOTE_TRY(Int(*st, "timeout_s", "settings.", 1, &c.timeout_s));
    LOTE_TRY(Int(*st, "max_retries", "settings.", 0, &c.max_retries));
    LOTE_ASSIGN_OR_RETURN(auto level, OptionalString(*st, "logging_level", "settings."));
    if (level && !level->empty()) c.logging_level = *level;
    LOTE_ASSIGN_OR_RETURN(const json* env, Member(*st, "environment_variables", "settings.", false));
    if (env != nullptr) {
      if (!env->is_object()) {
        return InvalidArgument("must be an object", "settings.environment_variables");
      }
      for (const auto& [k, v] : env->items()) {
        if (k.empty() || k.find('=') != std::string::npos) {
          return InvalidArgument("'" + k + "' is not a variable name",
                                 "settings.environment_variables");
        }
        // YAML gives numbers and booleans for unquoted values; the process
        // environment only has strings.
        c.environment_variables[k] = v.is_string() ? v.get<std::string>() : v.dump();
      }
    }
  }
  return c;
}

}  // namespace lote::agent
