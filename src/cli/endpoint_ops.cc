#include "cli/endpoint_ops.h"

#include "cli/deployment_files.h"
#include "cli/set_args.h"
#include "model/names.h"
#include "model/specs.h"

namespace lote::cli {

namespace fs = std::filesystem;

std::string EndpointPath(const std::string& name) { return "/api/v1/endpoints/" + EncodePath(name); }

std::string DeploymentPath(const std::string& endpoint, const std::string& deployment) {
  return EndpointPath(endpoint) + "/deployments/" + EncodePath(deployment);
}

Result<nlohmann::json> FindDeployment(const nlohmann::json& endpoint, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& d : endpoint.value("deployments", nlohmann::json::array())) {
    if (d.value("name", "") == name) return d;
    names.push_back(d.value("name", ""));
  }
  std::string ep = endpoint.value("name", "");
  if (names.empty()) return NotFound("endpoint '" + ep + "' has no deployments (deployment '" + name + "' not found)");
  std::vector<std::string_view> views(names.begin(), names.end());
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return NotFound("deployment '" + name + "' not found in endpoint '" + ep + "'" +
                  model::DidYouMean(name, views) + "; it has: " + list);
}

namespace {

// Loads a YAML file (or starts from {}) and lays --set over it.
Result<nlohmann::json> LoadWithSets(const std::string& file, const std::vector<std::string>& sets,
                                    std::optional<model::YamlDocument>& doc) {
  nlohmann::json raw = nlohmann::json::object();
  if (!file.empty()) {
    LOTE_ASSIGN_OR_RETURN(doc, model::LoadYamlFile(file));
    raw = doc->value;
  }
  if (sets.empty()) return raw;  // the schema names what is wrong with the file
  if (!raw.is_object()) return InvalidArgument(file + ": the file must hold a mapping to --set into");
  LOTE_ASSIGN_OR_RETURN(auto parsed, ParseSetArgs(sets));
  for (const SetArg& s : parsed) LOTE_TRY(ApplySetArg(raw, s));
  return raw;
}

// An existing endpoint takes the file's description, tags and default
// deployment (az's create-or-update).
void UpdateFromFile(ApiClient& client, const nlohmann::json& raw, const nlohmann::json& ep,
                    const model::YamlDocument* doc, CommandContext& ctx) {
  const std::string name = ep["name"];
  fs::path yaml_dir = doc ? fs::absolute(doc->file).parent_path() : fs::current_path();
  nlohmann::json deps = ep.value("deployments", nlohmann::json::array());
  for (size_t i = 0; i < deps.size(); ++i) {
    auto prepared = PrepareDeployment(client, deps[i], yaml_dir);
    if (!prepared) return ctx.Fail(prepared.error().UnderField(RawDeploymentField(raw, i, deps[i]["name"])), doc);
    auto put = client.Put(DeploymentPath(name, deps[i]["name"]), *prepared);
    if (!put) return ctx.Fail(put.error().UnderField(RawDeploymentField(raw, i, deps[i]["name"])), doc);
  }
  nlohmann::json patch = {{"description", ep.value("description", "")}};
  if (raw.contains("tags")) patch["tags"] = ep.value("tags", nlohmann::json::object());
  if (ep.contains("defaults")) patch["traffic"] = {{ep["defaults"]["deployment_name"], 100}};
  auto updated = client.Patch(EndpointPath(name), patch);
  if (!updated) return ctx.Fail(updated.error(), doc);
  ctx.Emit(updated);
}

}  // namespace

void CreateEndpoint(const EndpointCreate& a, CommandContext& ctx) {
  std::optional<model::YamlDocument> doc;
  auto loaded = LoadWithSets(a.file, a.sets, doc);
  if (!loaded) return ctx.Fail(loaded.error(), doc ? &*doc : nullptr);
  nlohmann::json raw = std::move(*loaded);
  if (!a.name.empty() && raw.is_object()) raw["name"] = a.name;
  const model::YamlDocument* d = doc ? &*doc : nullptr;
  auto ep = model::NormalizeEndpoint(raw);
  if (!ep) return ctx.Fail(ep.error(), d);
  auto client = ctx.Client();
  if (!client) return ctx.Fail(client.error());
  const std::string name = (*ep)["name"];
  // Checked before anything is uploaded.
  if ((*client)->Get(EndpointPath(name))) {
    if (a.update_existing) return UpdateFromFile(**client, raw, *ep, d, ctx);
    return ctx.Fail(AlreadyExists("endpoint '" + name + "' already exists", "name"), d);
  }
  fs::path yaml_dir = doc ? fs::absolute(a.file).parent_path() : fs::current_path();
  nlohmann::json& deps = (*ep)["deployments"];
  for (size_t i = 0; i < deps.size(); ++i) {
    auto prepared = PrepareDeployment(**client, deps[i], yaml_dir);
    if (!prepared) return ctx.Fail(prepared.error().UnderField(RawDeploymentField(raw, i, deps[i]["name"])), d);
    deps[i] = *prepared;
  }
  auto created = (*client)->Post("/api/v1/endpoints", *ep);
  if (!created) {
    const Error& e = created.error();
    return ctx.Fail(Error(e.code(), e.message(), RawEndpointField(raw, *ep, e.field())), d);
  }
  ctx.Emit(created);
}

std::optional<PutDeploymentResult> PutDeploymentFile(const DeploymentFile& a, CommandContext& ctx) {
  std::optional<model::YamlDocument> doc;
  auto loaded = LoadWithSets(a.file, a.sets, doc);
  const model::YamlDocument* d = doc ? &*doc : nullptr;
  if (!loaded) {
    ctx.Fail(loaded.error(), d);
    return std::nullopt;
  }
  nlohmann::json raw = std::move(*loaded);
  if (!raw.is_object()) {
    ctx.Fail(InvalidArgument("a deployment file must hold a mapping"), d);
    return std::nullopt;
  }
  if (a.strict_name && !a.name.empty() && raw.contains("name") && raw["name"] != a.name) {
    ctx.Fail(InvalidArgument("the file names deployment " + raw["name"].dump() + " but --deployment says '" +
                                 a.name + "'", "name"),
             d);
    return std::nullopt;
  }
  if (!a.name.empty()) raw["name"] = a.name;
  std::string endpoint = a.endpoint;
  if (endpoint.empty() && raw.contains("endpoint_name") && raw["endpoint_name"].is_string()) {
    endpoint = raw["endpoint_name"];
  }
  if (endpoint.empty()) {
    ctx.Fail(InvalidArgument("which endpoint? give --endpoint-name (-e) or endpoint_name in the file",
                             "--endpoint-name"));
    return std::nullopt;
  }
  if (!raw.contains("name")) {
    ctx.Fail(InvalidArgument("the deployment has no name: add `name:` to the file or give --name", "name"), d);
    return std::nullopt;
  }
  auto dep = model::NormalizeDeployment(raw);
  if (!dep) {
    ctx.Fail(dep.error(), d);
    return std::nullopt;
  }
  auto client = ctx.Client();
  if (!client) {
    ctx.Fail(client.error());
    return std::nullopt;
  }
  if (auto ep = (*client)->Get(EndpointPath(endpoint)); !ep) {
    Error e = ep.error();
    if (e.code() == ErrorCode::kNotFound) {
      e = NotFound("endpoint '" + endpoint + "' not found (create it first: lote batch-endpoint create -n " +
                   endpoint + ")", "endpoint_name");
    }
    ctx.Fail(e);
    return std::nullopt;
  }
  fs::path yaml_dir = a.file.empty() ? fs::current_path() : fs::absolute(a.file).parent_path();
  auto prepared = PrepareDeployment(**client, *dep, yaml_dir);
  if (!prepared) {
    ctx.Fail(prepared.error(), d);
    return std::nullopt;
  }
  std::string name = (*dep)["name"];
  auto put = (*client)->Put(DeploymentPath(endpoint, name), *prepared);
  if (!put) {
    ctx.Fail(put.error(), d);
    return std::nullopt;
  }
  return PutDeploymentResult{endpoint, name, std::move(*put)};
}

}  // namespace lote::cli
