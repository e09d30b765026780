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

}  // namespace

Result<nlohmann::json> NormalizeCompute(const nlohmann::json& in) {
  LOTE_ASSIGN_OR_RETURN(auto r, ObjectReader::Open(
                                    in, "compute", "", "",
                                    {"$schema", "name", "type", "min_instances", "max_instances",
                                     "description", "size", "location", "tier",
                                     "idle_time_before_scale_down", "agent_access"},
                                    {"created_at", "updated_at", "id", "provisioning_state"}));
  Json out = Json::object();
  LOTE_ASSIGN_OR_RETURN(std::string name, r.RequiredString("name"));
  LOTE_TRY(ValidateResourceName(name, "compute", r.Field("name")));
  out["name"] = name;

  LOTE_ASSIGN_OR_RETURN(std::string type, r.String("type", "local"));
  std::string t = Lower(Trim(type));
  if (t == "slurm" || t == "kubernetes") {
    return InvalidArgument("compute type " + Quote(t) + " is not supported yet", r.Field("type"));
  }
  if (t != "local" && t != "amlcompute") {
    return InvalidArgument("compute type " + Quote(type) +
                               " is invalid: expected local (amlcompute is read as local)",
                           r.Field("type"));
  }
  out["type"] = "local";

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
