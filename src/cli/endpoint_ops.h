// Endpoint and deployment operations shared by `lote endpoint` (the preview's
// verbs) and `lote batch-endpoint` / `lote batch-deployment` (az's GA verbs).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/command_context.h"

namespace lote::cli {

std::string EndpointPath(const std::string& name);
std::string DeploymentPath(const std::string& endpoint, const std::string& deployment);

// The deployment `name` of an endpoint document, or NotFound naming the
// endpoint's deployments (and the closest one).
Result<nlohmann::json> FindDeployment(const nlohmann::json& endpoint, const std::string& name);

struct EndpointCreate {
  std::string file;               // endpoint YAML ("" with only --name: an empty endpoint)
  std::string name;               // overrides the file's name
  std::vector<std::string> sets;  // --set path=value, over the file
  bool update_existing = false;   // az: create of an existing endpoint updates it
};
// Creates the endpoint (registering inline models, uploading code); with
// update_existing, an existing endpoint gets the file's description, tags,
// defaults and deployments instead of an AlreadyExists error.
void CreateEndpoint(const EndpointCreate& args, CommandContext& ctx);

struct DeploymentFile {
  std::string file;               // deployment YAML
  std::string endpoint;           // --endpoint-name (wins over the file's endpoint_name)
  std::string name;               // --name (wins over the file's name)
  std::vector<std::string> sets;  // --set path=value, over the file
  bool strict_name = false;       // a file naming another deployment than `name` is an error
};
struct PutDeploymentResult {
  std::string endpoint, deployment;
  nlohmann::json response;  // the server's answer to the PUT
};
// Reads, validates and uploads what the deployment needs, then PUTs it on its
// endpoint. Errors are already reported through ctx (with file:line) when it
// returns nullopt.
std::optional<PutDeploymentResult> PutDeploymentFile(const DeploymentFile& args, CommandContext& ctx);

}  // namespace lote::cli
