// What an agent with remote access prepares before its workers start
// (docs/agent-api.md, "Access"): a run folder of its own in the node cache
// (agent/artifact_cache.h) for its logs (shipped to the control plane by
// agent/log_shipper.h), the inputs it fetches and the scoring script's
// output folder; and the job's model, code and runner, fetched by hash
// (only what the cache lacks) and laid out as folders.
#pragma once

#include <filesystem>
#include <string>

#include "agent/agent_config.h"
#include "agent/agent_logs.h"
#include "agent/artifact_cache.h"
#include "agent/control_plane_client.h"
#include "common/status.h"

namespace lote::agent {

struct RemoteRun {
  ArtifactCache cache;
  std::filesystem::path dir;  // runs/<job>-node<I>-XXXXXX, removed at the end
  std::filesystem::path logs() const { return dir / "logs"; }
  std::filesystem::path scratch() const { return dir / "scratch"; }
  std::filesystem::path output() const { return dir / "output"; }
};

// Opens the cache at cache_dir (DefaultCacheDir() when empty) and makes the
// run folder with its logs, scratch and output folders.
Result<RemoteRun> OpenRemoteRun(const std::filesystem::path& cache_dir, const std::string& job,
                                int node);

// Fetches the trees config names (model, code, runner) into the cache,
// asking for the manifest only when one is missing, and sets config's
// model_dir, code_dir and runner to their folders. Errors name the tree
// and file (a hash mismatch is refused, InvalidArgument).
Status FetchArtifacts(ControlPlaneClient& client, const ArtifactCache& cache, AgentConfig& config,
                      SysLog& log);

}  // namespace lote::agent
