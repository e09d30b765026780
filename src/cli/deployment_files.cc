#include "cli/deployment_files.h"

#include <regex>

#include "cli/uploads.h"
#include "common/util.h"

namespace lote::cli {

namespace fs = std::filesystem;

namespace {

fs::path Resolve(const fs::path& yaml_dir, const std::string& p) {
  fs::path path = p;
  return path.is_absolute() ? path : (yaml_dir / path).lexically_normal();
}

}  // namespace

Result<nlohmann::json> PrepareDeployment(ApiClient& client, nlohmann::json dep,
                                         const fs::path& yaml_dir) {
  // What the server would refuse is checked before anything is uploaded or
  // registered, so a refused deployment leaves nothing behind.
  std::string target = dep["compute"]["target"];
  std::string compute_name = target.starts_with("azureml:") ? target.substr(8) : target;
  auto compute = client.Get("/api/v1/computes/" + EncodePath(compute_name));
  if (!compute) {
    if (compute.error().code() == ErrorCode::kNotFound) {
      return NotFound("compute '" + compute_name + "' not found (create it with `lote compute create`)",
                      "compute.target");
    }
    return compute.error();
  }
  int64_t count = dep["compute"]["instance_count"], max = (*compute)["max_instances"];
  if (count > max) {
    return InvalidArgument("instance_count " + std::to_string(count) + " is above compute '" +
                               compute_name + "' max_instances " + std::to_string(max),
                           "compute.instance_count");
  }
  if (dep["environment"].is_object() && dep["environment"].contains("conda_file") &&
      dep["environment"]["conda_file"].is_string()) {
    std::string ref = dep["environment"]["conda_file"];
    fs::path conda = Resolve(yaml_dir, ref.starts_with("file:") ? ref.substr(5) : ref);
    auto text = ReadFile(conda);
    if (!text) {
      return NotFound("conda file '" + conda.string() + "' does not exist", "environment.conda_file");
    }
    dep["environment"]["conda_file"] = *text;  // recorded; lote does not build environments
  }
  if (dep["model"].is_object()) {
    nlohmann::json& m = dep["model"];
    std::string local = m.value("local_path", m.value("path", ""));
    if (local.empty()) {
      return InvalidArgument("an inline model needs local_path (or refer to a registered model "
                             "as 'azureml:<name>:<version>')", "model");
    }
    fs::path dir = Resolve(yaml_dir, local);
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
      return NotFound("model folder '" + dir.string() + "' does not exist", "model.local_path");
    }
    auto registered = RegisterLocalModel(client, m, dir, /*reuse_identical=*/true);
    if (!registered) return registered.error().UnderField("model");
    dep["model"] = (*registered)["id"];
  }
  nlohmann::json& cc = dep["code_configuration"];
  if (cc.is_object()) {
    const nlohmann::json& code = cc["code"];
    std::string local = code.is_string() ? code.get<std::string>() : code.value("local_path", "");
    if (local.empty()) {
      return InvalidArgument("code_configuration.code needs local_path", "code_configuration.code");
    }
    fs::path dir = Resolve(yaml_dir, local);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      return NotFound("code folder '" + dir.string() + "' does not exist",
                      "code_configuration.code.local_path");
    }
    std::string key = cc.contains("native_library") ? "native_library" : "scoring_script";
    std::string script = cc.value(key, "");
    if (!fs::is_regular_file(dir / script, ec)) {
      return NotFound(key + " '" + script + "' is not a file in '" + dir.string() + "'",
                      "code_configuration." + key);
    }
    auto upload = UploadToStaging(client, dir);
    if (!upload) return upload.error().UnderField("code_configuration.code");
    cc["code"] = {{"upload_id", *upload}};
  }
  return dep;
}

std::string RawDeploymentField(const nlohmann::json& raw_endpoint, size_t i,
                               const std::string& name) {
  const auto& deps = raw_endpoint.contains("deployments") ? raw_endpoint["deployments"] : nlohmann::json();
  if (deps.is_object()) return "deployments." + name;
  return "deployments[" + std::to_string(i) + "]";
}

std::string RawEndpointField(const nlohmann::json& raw_endpoint, const nlohmann::json& normalized,
                             const std::string& field) {
  static const std::regex kDep(R"(^deployments\[(\d+)\](.*)$)");
  std::smatch m;
  if (!std::regex_match(field, m, kDep)) return field;
  size_t i = std::stoul(m[1]);
  const auto& deps = normalized.value("deployments", nlohmann::json::array());
  if (i >= deps.size()) return field;
  return RawDeploymentField(raw_endpoint, i, deps[i].value("name", "")) + m[2].str();
}

}  // namespace lote::cli
