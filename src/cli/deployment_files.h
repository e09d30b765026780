// Turning deployment specs read from YAML into what the server stores:
// inline models are registered (or reused when identical) and code folders
// uploaded. Relative local paths are relative to the YAML file's folder.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/api_client.h"

namespace lote::cli {

// dep: a normalized deployment (model/specs.h). Errors carry fields relative
// to the deployment ("model.local_path").
Result<nlohmann::json> PrepareDeployment(ApiClient& client, nlohmann::json dep,
                                         const std::filesystem::path& yaml_dir);

// The field path of normalized deployment i in the raw endpoint document:
// "deployments[i]" for the list form, "deployments.<name>" for the map form.
std::string RawDeploymentField(const nlohmann::json& raw_endpoint, size_t i,
                               const std::string& name);

// Rewrites a field that starts with "deployments[i]" (normalized) into the raw form.
std::string RawEndpointField(const nlohmann::json& raw_endpoint,
                             const nlohmann::json& normalized, const std::string& field);

}  // namespace lote::cli
