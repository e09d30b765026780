// What an invocation asks for, whatever shape it arrived in.
//
// lote's own shape (what the CLI sends):
//   {"deployment": "blue",                                  optional
//    "input": {"data": "azureml:taxi:1"}
//           | {"datastore": "workspaceblobstore", "path": "rel/dir"}
//           | {"uri": "https://host/file.csv" | "azureml://datastores/<ds>/paths/<rel>"},
//    "output": {"datastore": "…", "path": "…", "file_name": "…"},   optional
//    "set": {"mini_batch_size": 5, "retry_settings.max_retries": 1, …},  optional
//    "name": "nightly-2026-11-28"}    optional: the job's name (an asset name);
//                                     taken names are refused (409)
// Azure's REST bodies (2020-09 `dataset`/`outputDataset`, DatasetVersion, and
// 2022 `InputData`/`OutputData`) are translated into it.
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::jobs {

Result<nlohmann::json> ParseInvokeRequest(const nlohmann::json& body);

// Applies "--set"-style overrides (dotted keys) onto a deployment document.
// Only the job-tunable keys are accepted; others are refused by name.
Result<nlohmann::json> ApplyOverrides(nlohmann::json deployment, const nlohmann::json& set);

}  // namespace lote::jobs
