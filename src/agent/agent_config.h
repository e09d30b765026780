// What an agent learns about its job from GET /api/v1/jobs/{job}/agent-config
// (docs/agent-api.md), parsed and checked once at start.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::agent {

struct AgentConfig {
  std::string job;
  std::string status;  // the job's status when the agent asked

  // runtime
  std::string runtime_kind;  // "python" (python runner) | "native" (`lote worker`)
  std::string python = "python3";
  std::string runner;        // absolute path of lote_runner.py
  std::optional<std::string> code_dir, scoring_script;
  std::string model_dir;
  nlohmann::json runtime_options = nlohmann::json::object();

  // settings
  int max_concurrency_per_instance = 1;
  int timeout_s = 30;
  int max_retries = 3;
  std::string logging_level = "info";
  std::map<std::string, std::string> environment_variables;

  std::string output_dir;
  std::string log_dir;

  // True when the job hands out no more work (the agent need not start).
  bool JobEnded() const;
};

// InvalidArgument naming the field ("settings.timeout_s: …") for a config
// the agent cannot run.
Result<AgentConfig> ParseAgentConfig(const nlohmann::json& body);

}  // namespace lote::agent
