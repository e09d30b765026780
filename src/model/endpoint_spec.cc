// NormalizeEndpoint (docs/resources.md, "endpoint"), with inline deployments.
#include <algorithm>
#include <map>

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

struct Deployments {
  Json list = Json::array();
  std::vector<std::string> names;
  bool from_map = false;
};

Result<Json> NormalizeOne(const Json& in, std::string_view at) {
  auto d = NormalizeDeployment(in, at);
  if (d) return d;
  auto name = in.is_object() ? in.find("name") : in.end();
  if (in.is_object() && name != in.end() && name->is_string()) {
    return d.error().WithContext("deployment " + Quote(name->get<std::string>()));
  }
  return d.error();
}

Result<Deployments> ReadDeployments(const ObjectReader& r) {
  Deployments out;
  const Json* v = r.Get("deployments");
  if (!v) return out;
  if (v->is_array()) {
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < v->size(); ++i) {
      std::string at = JoinField(r.Field("deployments"), "[" + std::to_string(i) + "]");
      LOTE_ASSIGN_OR_RETURN(Json d, NormalizeOne((*v)[i], at));
      std::string name = d["name"].get<std::string>();
      if (auto it = seen.find(name); it != seen.end()) {
        return InvalidArgument("duplicate deployment name " + Quote(name) + " (also deployments[" +
                                   std::to_string(it->second) + "])",
                               JoinField(at, "name"));
      }
      seen.emplace(name, i);
      out.names.push_back(name);
      out.list.push_back(std::move(d));
    }
    return out;
  }
  if (!v->is_object()) {
    return InvalidArgument("deployments must be a list, or a mapping keyed by deployment name, "
                           "got " + Show(*v),
                           r.Field("deployments"));
  }
  out.from_map = true;
  for (const auto& [key, value] : v->items()) {
    std::string at = JoinField(r.Field("deployments"), key);
    LOTE_TRY(ValidateResourceName(key, "deployment", at));
    Json d = value;
    if (d.is_object()) {
      auto name = d.find("name");
      if (name != d.end() && !name->is_null() && *name != Json(key)) {
        return InvalidArgument("deployment name " + Show(*name) + " does not match its key " +
                                   Quote(key),
                               JoinField(at, "name"));
      }
      d["name"] = key;
    }
    LOTE_ASSIGN_OR_RETURN(Json nd, NormalizeOne(d, at));
    out.names.push_back(key);
    out.list.push_back(std::move(nd));
  }
  return out;
}

// GA `defaults: {deployment_name}`: "" when absent.
Result<std::string> DefaultDeployment(const ObjectReader& parent,
                                      const std::vector<std::string>& names) {
  const Json* v = parent.Get("defaults");
  if (!v) return std::string();
  LOTE_ASSIGN_OR_RETURN(auto r, ObjectReader::Open(*v, "defaults", parent.Field("defaults"),
                                                   "defaults", {"deployment_name"}));
  LOTE_ASSIGN_OR_RETURN(std::string name, r.String("deployment_name"));
  if (name.empty()) return name;
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    return InvalidArgument("defaults.deployment_name names deployment " + Quote(name) +
                               ", which this endpoint does not have",
                           r.Field("deployment_name"));
  }
  return name;
}

}  // namespace

Result<nlohmann::json> NormalizeEndpoint(const nlohmann::json& in) {
  LOTE_ASSIGN_OR_RETURN(auto r, ObjectReader::Open(in, "endpoint", "", "",
                                                   {"$schema", "name", "description", "type",
                                                    "auth_mode", "traffic", "deployments",
                                                    "defaults", "tags"},
                                                   {"scoring_uri", "created_at", "updated_at",
                                                    "id", "provisioning_state"}));
  Json out = Json::object();
  LOTE_ASSIGN_OR_RETURN(std::string name, r.RequiredString("name"));
  LOTE_TRY(ValidateResourceName(name, "endpoint", r.Field("name")));
  out["name"] = name;
  LOTE_ASSIGN_OR_RETURN(std::string type, r.String("type", "batch"));
  if (Lower(Trim(type)) != "batch") {
    return InvalidArgument("endpoint type " + Quote(type) +
                               " is not supported: lote serves batch endpoints only",
                           r.Field("type"));
  }
  out["type"] = "batch";
  LOTE_ASSIGN_OR_RETURN(out["description"], r.String("description"));
  LOTE_ASSIGN_OR_RETURN(Json tags, internal::Tags(r));
  if (!tags.empty()) out["tags"] = std::move(tags);
  LOTE_ASSIGN_OR_RETURN(std::string auth, r.String("auth_mode", "aad_token"));
  auth = Lower(Trim(auth));
  if (auth != "aad_token" && auth != "key") {
    return InvalidArgument("auth_mode must be aad_token or key, got " + Quote(auth),
                           r.Field("auth_mode"));
  }
  out["auth_mode"] = auth;

  LOTE_ASSIGN_OR_RETURN(Deployments deployments, ReadDeployments(r));
  const Json empty = nullptr;
  const Json* traffic_in = r.Get("traffic");
  LOTE_ASSIGN_OR_RETURN(Json traffic, NormalizeTraffic(traffic_in ? *traffic_in : empty,
                                                       deployments.names, "traffic"));
  LOTE_ASSIGN_OR_RETURN(std::string default_name, DefaultDeployment(r, deployments.names));

  std::string full;  // the deployment with 100
  for (const auto& [k, v] : traffic.items()) {
    if (v == 100) full = k;
  }
  if (!default_name.empty()) {
    if (full != default_name && (!full.empty() || traffic.contains(default_name))) {
      return InvalidArgument(
          "defaults.deployment_name " + Quote(default_name) + " disagrees with traffic, which " +
              (full.empty() ? "gives it 0" : "gives 100 to " + Quote(full)) +
              "; give one of them",
          "defaults.deployment_name");
    }
    traffic[default_name] = 100;
    full = default_name;
  } else if (traffic.empty() && !deployments.names.empty() &&
             (!deployments.from_map || deployments.names.size() == 1)) {
    full = deployments.names.front();
    traffic[full] = 100;
  } else if (traffic.empty() && deployments.from_map) {
    // No traffic, said explicitly: the output's list form, read back, would
    // otherwise give the first deployment 100.
    for (const std::string& d : deployments.names) traffic[d] = 0;
  }
  out["traffic"] = std::move(traffic);
  if (!full.empty()) out["defaults"] = Json{{"deployment_name", full}};
  out["deployments"] = std::move(deployments.list);
  return out;
}

}  // namespace lote::model
