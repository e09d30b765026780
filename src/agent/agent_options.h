// How a node agent is started (`lote agent --server URL --job J --node I`),
// and its exit codes.
#pragma once

#include <chrono>
#include <string>

namespace lote::agent {

// Exit codes of `lote agent` (and of RunAgent's result).
inline constexpr int kAgentExitFinished = 0;     // the job hands out no more work
inline constexpr int kAgentExitError = 1;        // bad options, config refused, job gone
inline constexpr int kAgentExitNoWorkers = 3;    // no slot could start a worker
inline constexpr int kAgentExitUnreachable = 4;  // control plane unreachable too long
// After signal N (SIGTERM, SIGINT): 128 + N, i.e. 143 and 130.

// Knobs with production defaults; tests shrink them.
struct AgentTuning {
  // Pause before asking again when the lease answered "running" with no task.
  std::chrono::milliseconds idle_poll{100};
  // A slot restarts a worker whose start or init failed this many times
  // (so 1 + retries starts in all) before it gives up, waiting
  // restart_backoff, then twice that, and so on, between starts.
  int worker_start_retries = 3;
  std::chrono::milliseconds restart_backoff{1000};
  // hello + init may take max(timeout_s, this): imports can be slow.
  int min_init_timeout_s = 60;
  // After `shutdown`, how long a worker has to exit before it is killed.
  std::chrono::milliseconds shutdown_grace{5000};
  // After the protocol pipe closed, how long a worker has to finish exiting
  // (so its exit code is seen) before it is killed.
  std::chrono::milliseconds exit_grace{2000};
  // Remote access: how often new log bytes are shipped to the control plane.
  std::chrono::milliseconds log_ship_period{2000};
};

struct AgentOptions {
  std::string server_url;  // the control plane, "http://127.0.0.1:8070"
  std::string token;       // bearer token (from LOTE_TOKEN, never argv)
  std::string job;
  int node = 0;
  int server_timeout_s = 30;  // give up after the control plane was unreachable this long
  // Remote access: the node cache (agent/artifact_cache.h); "" for
  // DefaultCacheDir(). Unused with direct access.
  std::string cache_dir;
  AgentTuning tuning;
};

}  // namespace lote::agent
