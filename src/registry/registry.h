// Resource operations of the control plane: computes, models, data assets,
// datastores, endpoints and their deployments. Independent of HTTP: the REST
// handlers (src/server/) are thin wrappers around these calls.
//
// Inputs are JSON bodies in the forms of docs/resources.md; outputs are the
// canonical JSON. Errors name the resource and, for bad input, the field.
// Thread-safe: multi-document changes run in one store transaction.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/home.h"
#include "common/status.h"
#include "storage/beneath.h"
#include "storage/url_policy.h"
#include "store/store.h"

namespace lote::registry {

using nlohmann::json;

struct RegistryOptions {
  store::Store* store = nullptr;  // not owned
  HomeLayout home;
  std::string base_url;  // "http://127.0.0.1:8070", for scoring_uri
  storage::UrlPolicy url_policy;  // hosts a data asset's URL may name
  // Asks the compute's cluster whether a normalized compute can run agents
  // (Slurm: sbatch --test-only); called outside any store transaction, as it
  // may take seconds. None: every compute is taken as it is.
  std::function<Status(const json& compute)> check_compute;
};

class Registry {
 public:
  static Result<std::unique_ptr<Registry>> Create(const RegistryOptions& options);

  // compute
  Result<json> CreateCompute(const json& body);
  Result<json> GetCompute(const std::string& name);
  Result<json> ListComputes();
  Result<json> UpdateCompute(const std::string& name, const json& patch);
  Status DeleteCompute(const std::string& name);

  // uploads: a staging folder that model/code creation consumes
  Result<std::string> CreateUpload();
  // The upload's staging folder, to create its files beneath (PUT …/files/<rel>).
  Result<storage::Beneath> OpenUpload(const std::string& upload_id);
  // <staging>/<upload_id>/<rel>, lexically (model and code creation move the whole folder).
  Result<std::filesystem::path> UploadFilePath(const std::string& upload_id, const std::string& rel);

  // model (version "latest" or "" picks the highest)
  Result<json> CreateModel(const json& body);
  Result<json> GetModel(const std::string& name, const std::string& version);
  Result<json> ListModels(const std::string& name = "");
  Status DeleteModel(const std::string& name, const std::string& version);

  // datastore
  Result<json> CreateDatastore(const json& body);
  Result<json> GetDatastore(const std::string& name);
  Result<json> ListDatastores();
  Status DeleteDatastore(const std::string& name);
  // The datastore's folder: every read, write and listing in it goes through
  // this (storage/beneath.h), so links that lead out are refused.
  Result<storage::Beneath> OpenDatastore(const std::string& name);
  // The real path of rel inside the datastore (links inside resolved), or,
  // when rel does not exist yet, its lexical path after checking its existing
  // prefix. Refuses escapes. A path, so checked-then-used: prefer OpenDatastore.
  Result<std::filesystem::path> DatastorePath(const std::string& name, const std::string& rel);

  // data asset
  Result<json> CreateData(const json& body);
  Result<json> GetData(const std::string& name, const std::string& version);
  Result<json> ListData(const std::string& name = "");
  Status DeleteData(const std::string& name, const std::string& version);

  // endpoint and deployments
  Result<json> CreateEndpoint(const json& body);
  Result<json> GetEndpoint(const std::string& name);
  Result<json> ListEndpoints();
  // The endpoint's uid: random, set when it is created and never changed, so
  // tokens issued for it do not work for a later endpoint of the same name.
  Result<std::string> EndpointUid(const std::string& name);
  // patch: {"traffic": {...}} and/or {"description": …}
  Result<json> UpdateEndpoint(const std::string& name, const json& patch);
  // Adds the deployment, or replaces the one with the same name.
  Result<json> PutDeployment(const std::string& endpoint, const json& body);
  Result<json> DeleteDeployment(const std::string& endpoint, const std::string& deployment);
  Status DeleteEndpoint(const std::string& name);

 private:
  explicit Registry(const RegistryOptions& o)
      : store_(*o.store),
        home_(o.home),
        base_url_(o.base_url),
        url_policy_(o.url_policy),
        check_compute_(o.check_compute) {}
  Status EnsureDefaultDatastore();
  // Gives endpoints created before uids existed one (their old tokens stop working).
  Status EnsureEndpointUids();
  // Checks a deployment against what is stored and moves its uploaded code
  // under <home>/code/<endpoint>/, adding that folder to *moved so a caller
  // whose request then fails can take it away again (DiscardCode).
  Result<json> ResolveDeployment(const std::string& endpoint, json dep,
                                 std::vector<std::filesystem::path>* moved);
  static void DiscardCode(const std::vector<std::filesystem::path>& moved);
  Result<std::string> NextVersion(store::Kind kind, const std::string& name);
  Result<json> GetVersioned(store::Kind kind, const std::string& name, const std::string& version);
  Result<std::vector<std::pair<std::string, std::string>>> DeploymentsUsing(
      const std::function<bool(const json& dep)>& uses);

  store::Store& store_;
  HomeLayout home_;
  std::string base_url_;
  storage::UrlPolicy url_policy_;
  std::function<Status(const json&)> check_compute_;
};

}  // namespace lote::registry
