// Compute targets: where a deployment's agents run.
#include "common/util.h"
#include "model/specs.h"
#include "registry/registry.h"

namespace lote::registry {

Result<json> Registry::CreateCompute(const json& body) {
  LOTE_ASSIGN_OR_RETURN(json compute, model::NormalizeCompute(body));
  if (check_compute_) LOTE_TRY(check_compute_(compute));
  compute["created_at"] = NowRfc3339();
  LOTE_TRY(store_.Insert(store::Kind::kCompute, compute["name"].get<std::string>(), compute));
  return compute;
}

Result<json> Registry::GetCompute(const std::string& name) {
  return store_.Get(store::Kind::kCompute, name);
}

Result<json> Registry::ListComputes() {
  LOTE_ASSIGN_OR_RETURN(auto all, store_.List(store::Kind::kCompute));
  return json(all);
}

Result<json> Registry::UpdateCompute(const std::string& name, const json& patch) {
  if (!patch.is_object()) return InvalidArgument("compute update must be a JSON object");
  auto merge = [&](const json& current) -> Result<json> {
    json merged = current;
    for (auto& [k, v] : patch.items()) merged[k] = v;
    if (merged["name"] != name) return InvalidArgument("a compute cannot be renamed", "name");
    return model::NormalizeCompute(merged);
  };
  // The cluster is asked outside the transaction (it may take seconds); the
  // update then applies only to the compute that was checked.
  LOTE_ASSIGN_OR_RETURN(json checked_from, store_.Get(store::Kind::kCompute, name));
  if (check_compute_) {
    LOTE_ASSIGN_OR_RETURN(json checked, merge(checked_from));
    LOTE_TRY(check_compute_(checked));
  }
  json result;
  LOTE_TRY(store_.Transaction([&]() -> Status {
    LOTE_ASSIGN_OR_RETURN(json current, store_.Get(store::Kind::kCompute, name));
    if (current != checked_from) {
      return FailedPrecondition("compute '" + name + "' changed while this update was checked; try again");
    }
    LOTE_ASSIGN_OR_RETURN(json normalized, merge(current));
    normalized["created_at"] = current.value("created_at", NowRfc3339());
    normalized["updated_at"] = NowRfc3339();
    // Deployments already using more instances than the new maximum would be unrunnable.
    int64_t max = normalized["max_instances"];
    LOTE_ASSIGN_OR_RETURN(auto over, DeploymentsUsing([&](const json& dep) {
      return dep["compute"]["target"] == "azureml:" + name &&
             dep["compute"]["instance_count"].get<int64_t>() > max;
    }));
    if (!over.empty()) {
      return FailedPrecondition("max_instances " + std::to_string(max) + " is below the " +
                                    "instance_count of deployment '" + over[0].second +
                                    "' of endpoint '" + over[0].first + "'",
                                "max_instances");
    }
    result = normalized;
    return store_.Replace(store::Kind::kCompute, name, normalized);
  }));
  return result;
}

Status Registry::DeleteCompute(const std::string& name) {
  return store_.Transaction([&]() -> Status {
    LOTE_TRY(store_.Get(store::Kind::kCompute, name));
    LOTE_ASSIGN_OR_RETURN(auto users, DeploymentsUsing([&](const json& dep) {
      return dep["compute"]["target"] == "azureml:" + name;
    }));
    if (!users.empty()) {
      return FailedPrecondition("compute '" + name + "' is used by deployment '" +
                                users[0].second + "' of endpoint '" + users[0].first + "'");
    }
    return store_.Delete(store::Kind::kCompute, name);
  });
}

}  // namespace lote::registry
