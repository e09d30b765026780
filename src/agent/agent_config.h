// What an agent learns about its job from GET /api/v1/jobs/{job}/agent-config
// (docs/agent-api.md), parsed and checked once at start.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::agent {

// direct: the paths below are on this node's disk (the agent runs on the
// server's host, or reads a mounted datastore); remote: the agent fetches
// through the control plane (docs/agent-api.md, "Access").
enum class Access { kDirect, kRemote };

// A tree of the job's artifacts, by hash (artifacts/manifest.h).
struct TreeRef {
  std::string sha256;
  uint64_t files = 0;
  uint64_t bytes = 0;
  std::string entry;  // the runner's file to run
};

struct AgentConfig {
  std::string job;
  std::string status;  // the job's status when the agent asked

  Access access = Access::kDirect;        // model, code, runner and logs
  Access input_access = Access::kDirect;  // the mini-batches' items
  // access kRemote: the trees to fetch (code: none without code; runner:
  // none for native runtimes). The agent fills runner, code_dir, model_dir,
  // output_dir and log_dir with folders of its own once they are fetched.
  std::optional<TreeRef> model_tree, code_tree, runner_tree;

  // runtime
  std::string runtime_kind;  // "python" (python runner) | "native" (`lote worker`)
  std::string python = "python3";
  std::string runner;        // absolute path of lote_runner.py (remote: set by the agent)
  std::optional<std::string> code_dir, scoring_script;
  std::string model_dir;
  nlohmann::json runtime_options = nlohmann::json::object();

  // settings
  int max_concurrency_per_instance = 1;
  int timeout_s = 30;
  int max_retries = 3;
  std::string logging_level = "info";
  std::map<std::string, std::string> environment_variables;

  std::string output_dir;  // remote: set by the agent (a local scratch folder)
  std::string log_dir;     // remote: set by the agent (shipped to the control plane)
  // Direct access: the job's staging folder, where the agent writes its
  // batches of results itself and posts only their names (docs/agent-api.md,
  // "Results by file"); empty when the control plane offers none (remote
  // access, or an older server): the rows then go in the request body.
  std::string results_dir;

  // True when the job hands out no more work (the agent need not start).
  bool JobEnded() const;
};

// InvalidArgument naming the field ("settings.timeout_s: …") for a config
// the agent cannot run.
Result<AgentConfig> ParseAgentConfig(const nlohmann::json& body);

}  // namespace lote::agent
