#include "agent/agent_config.h"

#include "artifacts/manifest.h"

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

Result<Access> AccessField(const json& obj, const std::string& key) {
  LOTE_ASSIGN_OR_RETURN(auto v, OptionalString(obj, key, ""));
  if (!v || *v == "direct") return Access::kDirect;
  if (*v == "remote") return Access::kRemote;
  return InvalidArgument("'" + *v + "' is not an access this agent knows (direct, remote)", key);
}

Result<std::optional<TreeRef>> TreeField(const json& artifacts, const std::string& key, bool required) {
  const std::string where = "artifacts." + key;
  auto it = artifacts.find(key);
  if (it == artifacts.end() || it->is_null()) {
    if (required) return InvalidArgument("missing", where);
    return std::optional<TreeRef>();
  }
  if (!it->is_object()) return InvalidArgument("must be an object", where);
  TreeRef ref;
  LOTE_ASSIGN_OR_RETURN(ref.sha256, String(*it, "sha256", where + "."));
  if (!artifacts::IsSha256Hex(ref.sha256)) return InvalidArgument("must be a sha256 (64 hex digits)", where + ".sha256");
  if (auto f = it->find("files"); f != it->end() && f->is_number_unsigned()) ref.files = f->get<uint64_t>();
  if (auto b = it->find("bytes"); b != it->end() && b->is_number_unsigned()) ref.bytes = b->get<uint64_t>();
  LOTE_ASSIGN_OR_RETURN(auto entry, OptionalString(*it, "entry", where + "."));
  if (entry) {
    if (auto st = artifacts::CheckRelativePath(*entry); !st) return InvalidArgument(st.error().message(), where + ".entry");
    ref.entry = *entry;
  }
  return std::optional<TreeRef>(std::move(ref));
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
  LOTE_ASSIGN_OR_RETURN(c.access, AccessField(body, "access"));
  LOTE_ASSIGN_OR_RETURN(c.input_access, AccessField(body, "input_access"));
  const bool remote = c.access == Access::kRemote;
  if (!remote) {
    LOTE_ASSIGN_OR_RETURN(c.output_dir, String(body, "output_dir", ""));
    LOTE_ASSIGN_OR_RETURN(c.log_dir, String(body, "log_dir", ""));
    if (auto r = body.find("results_dir"); r != body.end() && r->is_string()) c.results_dir = *r;
  }

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
    if (!remote) {
      LOTE_ASSIGN_OR_RETURN(c.runner, String(*rt, "runner", "runtime."));
    }
  }
  LOTE_ASSIGN_OR_RETURN(c.scoring_script, OptionalString(*rt, "scoring_script", "runtime."));
  if (!remote) {
    LOTE_ASSIGN_OR_RETURN(c.code_dir, OptionalString(*rt, "code_dir", "runtime."));
    LOTE_ASSIGN_OR_RETURN(c.model_dir, String(*rt, "model_dir", "runtime."));
  } else {
    LOTE_ASSIGN_OR_RETURN(const json* artifacts, Member(body, "artifacts", "", true));
    if (!artifacts->is_object()) return InvalidArgument("must be an object", "artifacts");
    LOTE_ASSIGN_OR_RETURN(c.model_tree, TreeField(*artifacts, "model", true));
    LOTE_ASSIGN_OR_RETURN(c.code_tree, TreeField(*artifacts, "code", false));
    LOTE_ASSIGN_OR_RETURN(c.runner_tree, TreeField(*artifacts, "runner", c.runtime_kind == "python"));
    if (c.runner_tree && c.runner_tree->entry.empty()) {
      return InvalidArgument("missing: the runner's file to run", "artifacts.runner.entry");
    }
  }
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
