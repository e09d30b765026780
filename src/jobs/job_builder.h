// Turns an invocation into a job document: picks the deployment, applies the
// per-job overrides, resolves the input to a folder or file the agents can
// read (or a URL to fetch while preparing), and claims an output location
// that must not exist yet. Refuses bad requests before any job exists.
#pragma once

#include <nlohmann/json.hpp>

#include "common/home.h"
#include "registry/registry.h"

namespace lote::jobs {

struct JobBuildContext {
  registry::Registry* registry = nullptr;
  HomeLayout home;
  std::string base_url;
  std::string python_runner;  // path of python/lote_runner.py
  std::string default_python = "python3";  // for no-code Python models without an environment
};

// request: ParseInvokeRequest's output. deployment_override: the
// azureml-model-deployment header or --deployment-name ("" for the default).
Result<nlohmann::json> BuildJob(const JobBuildContext& ctx, const std::string& endpoint,
                                const nlohmann::json& request,
                                const std::string& deployment_override);

}  // namespace lote::jobs
