// What an invocation asks for, whatever shape it arrived in (docs/rest.md).
//
// lote's own shape (what the CLI sends):
//   {"deployment": "blue",                                  optional
//    "input": {"data": "azureml:taxi:1" | "azureml:taxi@latest"}
//           | {"datastore": "workspaceblobstore", "path": "rel/dir"}
//           | {"uri": "https://host/file.csv" | "azureml://datastores/<ds>/paths/<rel>"},
//             each with an optional "type": "uri_folder" | "uri_file"
//             (a uri_folder URL without a trailing '/' is listed as a folder),
//    "output": {"datastore": "…", "path": "…", "file_name": "…"}    optional;
//              "path" or "uri" may be azureml://datastores/<ds>/paths/<p>
//    "set": {"mini_batch_size": 5, "retry_settings.max_retries": 1, …},  optional
//    "name": "nightly-2026-11-28"}    optional: the job's name (an asset name);
//                                     taken names are refused (409)
// Azure's REST bodies (2020-09 `dataset`/`outputDataset`, DatasetVersion, and
// the GA `InputData`/`OutputData` in every key spelling) are translated into
// it (jobs/invoke_request_azure.cc). The result always has "input" as one of
// {data}, {datastore, path}, {uri}; "output" as {datastore?, path?, file_name?}.
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::jobs {

Result<nlohmann::json> ParseInvokeRequest(const nlohmann::json& body);

// Applies "--set"-style overrides (dotted keys) onto a deployment document.
// Only the job-tunable keys are accepted; others are refused by name.
Result<nlohmann::json> ApplyOverrides(nlohmann::json deployment, const nlohmann::json& set);

}  // namespace lote::jobs
