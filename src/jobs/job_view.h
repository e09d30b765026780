// What users see of a job (REST, `lote job show`, the progress files): its
// spec without the internals, its state and its progress.
#pragma once

#include <nlohmann/json.hpp>

#include "store/job_store.h"

namespace lote::jobs {

// now_ms: for the elapsed time and throughput of a job still running.
nlohmann::json JobView(const store::JobRecord& job, int64_t now_ms);

// What REST clients get (GET job, list, the invoke's answer): the view with
// Azure's job resource beside lote's fields, so an Azure client reads it as it
// reads Azure's answer: "id" (an ARM-like id), "name", "properties" {jobType,
// status, displayName, experimentName, interactionEndpoints and services
// (Studio: the job's URL on this server, Tracking: its log), inputs,
// outputs}, "systemData". Azure's top-level "type" would collide with lote's
// (the job's kind, "batch", which clients already read): Azure's is
// "resourceType" ("Microsoft.MachineLearningServices/workspaces/jobs").
// base_url: this server's, as in scoring URIs.
nlohmann::json WithAzureShape(nlohmann::json view, const std::string& base_url);

}  // namespace lote::jobs
