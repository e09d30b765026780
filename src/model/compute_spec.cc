// NormalizeCompute (docs/resources.md, "compute").
#include "model/names.h"
#include "model/spec_util.h"
#include "model/specs.h"

namespace lote::model {
namespace {

using internal::Json;
using internal::Lower;
using internal::ObjectReader;
using internal::Quote;
using internal::Trim;

constexpr int64_t kDefaultMaxInstances = 4;
constexpr int64_t kMaxInstancesLimit = 1024;
constexpr size_t kMaxSbatchArgs = 64;
constexpr size_t kMaxArgBytes = 1024;

bool OnlyChars(std::string_view s, std::string_view extra) {
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              extra.find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool Digits(std::string_view s) {
  return !s.empty() && s.size() <= 9 && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// Slurm's time formats: "minutes", "minutes:seconds", "hours:minutes:seconds",
// "days-hours", "days-hours:minutes", "days-hours:minutes:seconds", or
// UNLIMITED / INFINITE.
bool SlurmTime(std::string_view t) {
  if (t == "UNLIMITED" || t == "INFINITE" || t == "unlimited" || t == "infinite") return true;
  if (auto dash = t.find('-'); dash != std::string_view::npos) {
    if (!Digits(t.substr(0, dash))) return false;
    t.remove_prefix(dash + 1);
  }
  int parts = 0;
  for (;;) {
    auto colon = t.find(':');
    if (!Digits(t.substr(0, colon))) return false;
    ++parts;
    if (colon == std::string_view::npos) break;
    t.remove_prefix(colon + 1);
  }
  return parts <= 3;
}

// Options the Slurm launcher sets itself (or that would break it).
constexpr std::string_view kOwnedOptions[] = {"--wrap",  "--parsable", "--test-only", "--job-name", "-J",
                                              "--array", "-a",         "--wait",      "-W"};

Status CheckSbatchArg(const std::string& a, const std::string& field) {
  if (a.empty() || a[0] != '-') {
    return InvalidArgument("sbatch argument " + Quote(a) + " is not an option (it must start with '-')", field);
  }
  if (a.size() > kMaxArgBytes || a.find_first_of(std::string_view("\0\n\r", 3)) != std::string::npos) {
    return InvalidArgument("sbatch argument is too long or holds a control character", field);
  }
  for (std::string_view o : kOwnedOptions) {
    bool hit = o.size() == 2 ? a.starts_with(o) : (a == o || a.starts_with(std::string(o) + "="));
    if (hit) return InvalidArgument("sbatch argument " + Quote(a) + " is set by lote itself", field);
  }
  return {};
}

Status ReadSlurmSettings(const ObjectReader& r, Json& out) {
  LOTE_ASSIGN_OR_RETURN(std::string partition, r.String("partition"));
  if (partition.size() > 256 || !OnlyChars(partition, "_.,-")) {
    return InvalidArgument("partition " + Quote(partition) + " is not a Slurm partition name (or list)",
                           r.Field("partition"));
  }
  LOTE_ASSIGN_OR_RETURN(std::string account, r.String("account"));
  if (account.size() > 256 || !OnlyChars(account, "_.-")) {
    return InvalidArgument("account " + Quote(account) + " is not a Slurm account name", r.Field("account"));
  }
  LOTE_ASSIGN_OR_RETURN(std::string time_limit, r.String("time_limit"));
  time_limit = Trim(time_limit);
  if (!time_limit.empty() && !SlurmTime(time_limit)) {
    return InvalidArgument("time_limit " + Quote(time_limit) +
                               " is not a Slurm time (minutes, HH:MM:SS, D-HH:MM:SS or UNLIMITED)",
                           r.Field("time_limit"));
  }
  Json args = Json::array();
  if (const Json* v = r.Get("sbatch_args")) {
    Json list = v->is_string() ? Json::array({*v}) : *v;
    if (!list.is_array()) return InvalidArgument("sbatch_args must be a list of strings", r.Field("sbatch_args"));
    if (list.size() > kMaxSbatchArgs) {
      return InvalidArgument("sbatch_args holds more than " + std::to_string(kMaxSbatchArgs) + " arguments",
                             r.Field("sbatch_args"));
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string field = r.Field("sbatch_args") + "[" + std::to_string(i) + "]";
      if (!list[i].is_string()) return InvalidArgument("sbatch_args must be a list of strings", field);
      LOTE_TRY(CheckSbatchArg(list[i].get<std::string>(), field));
      args.push_back(list[i]);
    }
  }
  LOTE_ASSIGN_OR_RETURN(std::string binary, r.String("agent_binary"));
  if (!binary.empty() && (binary[0] != '/' || binary.size() > 4096 ||
                          binary.find_first_of(std::string_view("\0\n\r", 3)) != std::string::npos)) {
    return InvalidArgument("agent_binary must be an absolute path of lote on the nodes", r.Field("agent_binary"));
  }
  out["partition"] = partition;
  out["account"] = account;
  out["time_limit"] = time_limit;
  out["sbatch_args"] = args;
  out["agent_binary"] = binary;
  return {};
}

}  // namespace

Result<nlohmann::json> NormalizeCompute(const nlohmann::json& in) {
  LOTE_ASSIGN_OR_RETURN(auto r, ObjectReader::Open(
                                    in, "compute", "", "",
                                    {"$schema", "name", "type", "min_instances", "max_instances",
                                     "description", "size", "location", "tier",
                                     "idle_time_before_scale_down", "partition", "account", "time_limit",
                                     "sbatch_args", "agent_binary", "agent_access"},
                                    {"created_at", "updated_at", "id", "provisioning_state"}));
  Json out = Json::object();
  LOTE_ASSIGN_OR_RETURN(std::string name, r.RequiredString("name"));
  LOTE_TRY(ValidateResourceName(name, "compute", r.Field("name")));
  out["name"] = name;

  LOTE_ASSIGN_OR_RETURN(std::string type, r.String("type", "local"));
  std::string t = Lower(Trim(type));
  if (t == "kubernetes") {
    return InvalidArgument("compute type " + Quote(t) + " is not supported yet (docs/compute.md)", r.Field("type"));
  }
  if (t != "local" && t != "amlcompute" && t != "slurm") {
    return InvalidArgument("compute type " + Quote(type) +
                               " is invalid: expected local or slurm (amlcompute is read as local)",
                           r.Field("type"));
  }
  out["type"] = t == "slurm" ? "slurm" : "local";
  if (t == "slurm") {
    LOTE_TRY(ReadSlurmSettings(r, out));
  } else {
    for (std::string_view key : {"partition", "account", "time_limit", "sbatch_args", "agent_binary"}) {
      if (r.Has(key)) return InvalidArgument(std::string(key) + " is only for a compute of type slurm", r.Field(key));
    }
  }

  LOTE_ASSIGN_OR_RETURN(int64_t min, r.Int("min_instances", 0, 0, kMaxInstancesLimit));
  LOTE_ASSIGN_OR_RETURN(int64_t max, r.Int("max_instances", std::max(kDefaultMaxInstances, min),
                                           1, kMaxInstancesLimit));
  if (max < min) {
    return InvalidArgument("max_instances (" + std::to_string(max) +
                               ") must be >= min_instances (" + std::to_string(min) + ")",
                           r.Field("max_instances"));
  }
  out["min_instances"] = min;
  out["max_instances"] = max;
  LOTE_ASSIGN_OR_RETURN(out["description"], r.String("description"));
  // An Azure VM size names no machine here; it is kept so that the document
  // reads back as written.
  LOTE_ASSIGN_OR_RETURN(auto size, r.OptionalString("size"));
  if (size) out["size"] = *size;
  // How its agents reach models, code and inputs (jobs/agent_access.h):
  // auto lets lote choose by compute type.
  LOTE_ASSIGN_OR_RETURN(std::string access, r.String("agent_access", "auto"));
  std::string a = Lower(Trim(access));
  if (a != "auto" && a != "direct" && a != "remote") {
    return InvalidArgument("agent_access " + Quote(access) + " is invalid: expected auto, direct or remote",
                           r.Field("agent_access"));
  }
  out["agent_access"] = a;
  return out;
}

}  // namespace lote::model
