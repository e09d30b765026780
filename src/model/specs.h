// Normalization and validation of resource specs (docs/resources.md).
//
// Every resource arrives as JSON, either read from a YAML file (yaml_doc.h) or
// from a REST body. Normalize* checks it and returns the canonical JSON of
// docs/resources.md with every default applied, so the CLI and the server
// validate one form and the store keeps one form.
//
// Common rules for every Normalize*:
//   - the input must be a JSON object;
//   - an unknown key is refused; the error names the key and, when one is
//     close, suggests it (" (did you mean 'mini_batch_size'?)");
//   - wrong types and out-of-range values are refused, naming the field and
//     the value;
//   - `$schema` and server-managed fields (created_at, updated_at, id,
//     provisioning_state, scoring_uri, a model's path/files/bytes/sha256, ...)
//     are accepted and dropped: a canonical document read back from the server
//     is valid input (an endpoint's `defaults` is read, see NormalizeEndpoint);
//   - integers may also be given as integer-valued strings or doubles ("5", 5.0);
//     versions are stored as strings (YAML `version: 1` -> "1").
// Errors are InvalidArgument; Error::field() is the path in the INPUT document
// ("deployments[0].retry_settings.timeout", "deployments.blue.model") so the
// CLI can map it to a YAML line; `at` prefixes it.
//
// All functions are pure (no I/O, no clock) and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::model {

// compute: {name, type: "local", min_instances, max_instances, description}.
// `type` defaults to local; "amlcompute" (the seed's command) is an alias of
// local; kubernetes is refused as not supported yet. A `slurm` compute adds
// {partition, account, time_limit, sbatch_args: [..], agent_binary} (all
// present in the canonical form; "" and [] for Slurm's defaults), checked for
// form here and against the cluster by the server.
// min_instances >= 0 (default 0); max_instances >= 1 and >= min_instances
// (default max(4, min_instances)). `size` (an Azure VM size) is recorded;
// `location`, `tier` and `idle_time_before_scale_down` are accepted and ignored. `agent_access`:
// auto (default: lote chooses by compute type, jobs/agent_access.h), direct
// or remote (every job on the compute reaches models, code and inputs so).
Result<nlohmann::json> NormalizeCompute(const nlohmann::json& in);

// One batch deployment. `name` is required: a caller that takes it from
// elsewhere (the CLI's --deployment-name) inserts it first. `model` and
// `compute.target` are required. Canonical forms:
//   model: "azureml:<name>:<version>" or "azureml:<name>@latest"; an inline
//     object {name, version, local_path | path, type, description} is kept
//     (version as a string) for the CLI to register and replace.
//   code_configuration: null or {code, scoring_script}; `code` is kept as
//     given: a string, {local_path} or {upload_id}.
//   environment: null, a string reference kept as given, or an object with
//     version as a string and `python` defaulting to "python3".
//   compute: {target: "azureml:<name>", instance_count}; GA forms
//     `compute: azureml:x` and `resources: {instance_count}` are accepted.
//   mini_batch_size: an integer > 0, or a size normalized as "<n><KB|MB|GB|TB|B>".
Result<nlohmann::json> NormalizeDeployment(const nlohmann::json& in, std::string_view at = "");

// A batch endpoint with its inline deployments (a list, or a map keyed by
// name in which an inner `name` is optional and must match the key). The
// canonical `deployments` is always a list, in input order for the list form
// and in name order for the map form. Deployment names must be unique.
// `defaults.deployment_name` (GA) is read as traffic {name: 100}, and must
// agree with `traffic` when both are given. When traffic is absent or empty:
// the first deployment of a list, or the only deployment of a map, gets 100;
// a map of several deployments gets 0 for each (a map has no order to pick
// "the first" from, and empty traffic in the canonical list would mean "the
// first gets 100" when read back). The output carries
// `defaults.deployment_name` for the deployment with 100, and omits
// `defaults` when there is none.
Result<nlohmann::json> NormalizeEndpoint(const nlohmann::json& in);

// datastore: {name, type: "local", path?, is_default, mounted_on_nodes,
// description}. `path` is the datastore's root folder, kept as given (the
// caller resolves relative paths); when absent the server chooses one.
// `mounted_on_nodes` (default false): the folder is at the same path on
// every compute node (a shared mount), so remote agents read inputs there
// directly (jobs/agent_access.h).
Result<nlohmann::json> NormalizeDatastore(const nlohmann::json& in);

// data asset: {name, version?, type?: uri_folder | uri_file (omitted when not
// given: the server infers it from the path), description, and one of
//   path: "azureml://datastores/<ds>/paths/<rel>" -> also datastore, relative_path
//   path: "http(s)://..."                         -> path only
//   datastore + relative_path                     -> path derived
//   local_path (or a GA `path` that is neither)   -> local_path, for the CLI to upload}.
// `version` is omitted when not given (the server takes the next integer).
Result<nlohmann::json> NormalizeDataAsset(const nlohmann::json& in);

// model: {name, version?, type?, description, local_path? | upload_id?}.
// type: mlflow_model | custom_model | xgboost | torchscript, omitted when not
// given (the server detects it). `path` is server-managed and dropped.
Result<nlohmann::json> NormalizeModel(const nlohmann::json& in);

// Converts traffic values to integers and validates them (ValidateTraffic).
// null is an empty map.
Result<nlohmann::json> NormalizeTraffic(const nlohmann::json& traffic,
                                        const std::vector<std::string>& deployment_names,
                                        std::string_view at = "traffic");

// Traffic rules: an object whose values are 0 or 100 (integers; "100" string
// ok), at most one 100, keys naming deployments in `deployment_names`.
Status ValidateTraffic(const nlohmann::json& traffic,
                       const std::vector<std::string>& deployment_names,
                       std::string_view at = "traffic");

// Parses the CLI's --traffic: "a:100", "a=100", "a:100,b:0" -> {"a":100,...}.
// Names must be valid deployment names, values 0 or 100, no name twice.
Result<nlohmann::json> ParseTrafficArg(std::string_view arg);

// Parses a size: "64MB", "512KB", "1GB", "2TB", "100B", "100" (bytes); units are
// case-insensitive, 1KB = 1024 bytes, a space before the unit is allowed.
// 0 is returned as 0 (the caller decides whether it is allowed).
Result<uint64_t> ParseByteSize(std::string_view text);

// Parses a timeout to seconds (> 0): an integer, "30", "30s", "2m", "1h", or
// ISO 8601 "PT30S" / "PT1M30S" / "P1DT2H". Errors name `field`.
Result<int64_t> ParseTimeoutSeconds(const nlohmann::json& v, std::string_view field);

struct ModelRef {
  std::string name;
  std::string version;  // "" for latest

  // "azureml:<name>:<version>" or "azureml:<name>@latest".
  std::string ToString() const;
  bool operator==(const ModelRef&) const = default;
};

// "azureml:autolog:1", "autolog:1", "azureml:autolog@latest", "autolog@latest",
// and ARM ids ".../models/<name>/versions/<v>". A bare name is refused (say
// ":<version>" or "@latest").
Result<ModelRef> ParseModelRef(std::string_view ref);

// "azureml:cpu-cluster" / "cpu-cluster" / "azureml:/subscriptions/.../computes/cpu-cluster"
// -> "cpu-cluster" (validated as a compute name).
Result<std::string> ParseComputeRef(std::string_view ref);

}  // namespace lote::model
