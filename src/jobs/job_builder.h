// Turns an invocation into a job document: picks the deployment, applies the
// per-job overrides, resolves the input to a folder or file the agents can
// read (or a URL to fetch while preparing), and claims an output location
// that must not exist yet. Refuses bad requests before any job exists.
//
// Datastore paths are resolved beneath their datastore (storage::Beneath):
// an input or output path through a link that leads out, or an input folder
// holding one, is refused (InvalidArgument naming the link). The job records
// real paths (links inside resolved) plus the datastore root and relative
// path, so planning checks again. The output folder is made here, beneath
// its datastore, once every other check has passed. A URL input is checked
// against ctx.url_policy and must answer within a few seconds
// (storage::UrlLimits::ForRequest).
#pragma once

#include <nlohmann/json.hpp>

#include "common/home.h"
#include "registry/registry.h"
#include "storage/url_policy.h"

namespace lote::jobs {

struct JobBuildContext {
  registry::Registry* registry = nullptr;
  HomeLayout home;
  std::string base_url;
  std::string python_runner;  // path of python/lote_runner.py
  std::string default_python = "python3";  // for no-code Python models without an environment
  storage::UrlPolicy url_policy;  // hosts a URL input may name
};

// request: ParseInvokeRequest's output. deployment_override: the
// azureml-model-deployment header or --deployment-name ("" for the default).
Result<nlohmann::json> BuildJob(const JobBuildContext& ctx, const std::string& endpoint,
                                const nlohmann::json& request,
                                const std::string& deployment_override);

}  // namespace lote::jobs
