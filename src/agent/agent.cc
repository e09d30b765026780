#include "agent/agent.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "agent/agent_config.h"
#include "agent/agent_logs.h"
#include "agent/control_plane_client.h"
#include "agent/worker_slot.h"

namespace lote::agent {

namespace {

Status CheckOptions(const AgentOptions& o) {
  if (o.server_url.empty()) return InvalidArgument("the control plane's URL is empty", "--server");
  if (o.job.empty()) return InvalidArgument("the job name is empty", "--job");
  if (o.token.empty()) return Error(ErrorCode::kUnauthenticated, "no token: set LOTE_TOKEN");
  if (o.node < 0) return InvalidArgument("must be >= 0", "--node");
  if (o.server_timeout_s < 1) return InvalidArgument("must be >= 1 second", "--server-timeout");
  return {};
}

}  // namespace

Agent::Agent(AgentOptions options) : options_(std::move(options)) {}
Agent::~Agent() = default;

void Agent::Stop(int exit_code, const std::string& reason) { state_.Stop(exit_code, reason); }

Result<int> Agent::Run() {
  LOTE_TRY(CheckOptions(options_));
  SysLog log;  // stderr until the log directory is known

  const std::string job = "job '" + options_.job + "'";
  AgentConfig config;
  {
    ControlPlaneClient client({.server_url = options_.server_url,
                               .token = options_.token,
                               .job = options_.job,
                               .unreachable_timeout_s = options_.server_timeout_s,
                               .state = &state_});
    auto body = client.GetAgentConfig();
    if (state_.stopping()) return state_.exit_code();
    if (!body) {
      if (body.error().code() == ErrorCode::kUnavailable) {
        log.Error(job + ": " + body.error().message());
        return kAgentExitUnreachable;
      }
      return body.error().WithContext(job);
    }
    auto parsed = ParseAgentConfig(*body);
    if (!parsed) {
      Error e = parsed.error();
      return Error(e.code(), job + ": agent-config: " +
                                 (e.field().empty() ? "" : e.field() + ": ") + e.message());
    }
    config = std::move(*parsed);
  }
  if (config.JobEnded()) {
    log.Info(job + " is " + config.status + ": nothing to do");
    return kAgentExitFinished;
  }

  NodeLogLayout layout{config.log_dir, options_.node};
  if (auto st = layout.CreateDirectories(); !st) return st.error().WithContext(job);
  if (auto st = log.Open(layout.agent_log()); !st) return st.error().WithContext(job);
  log.set_level(ParseLogLevel(config.logging_level));
  const int n = config.max_concurrency_per_instance;
  log.Info("agent for " + job + " on node " + std::to_string(options_.node) + ": " +
           std::to_string(n) + " worker process(es), run timeout " +
           std::to_string(config.timeout_s) + " s, worker '" + config.python + " " +
           config.runner + "', control plane " + options_.server_url);

  SlotEnv env{.options = &options_,
              .config = &config,
              .state = &state_,
              .log = &log,
              .layout = layout};
  std::vector<SlotOutcome> outcomes(static_cast<size_t>(n), SlotOutcome::kStopped);
  std::vector<std::string> start_errors(static_cast<size_t>(n));
  {
    std::vector<std::thread> threads;
    threads.reserve(static_cast<size_t>(n));
    for (int p = 0; p < n; ++p) {
      threads.emplace_back([&, p] {
        WorkerSlot slot(env, p);
        outcomes[static_cast<size_t>(p)] = slot.Run();
        start_errors[static_cast<size_t>(p)] = slot.last_start_error();
      });
    }
    for (auto& t : threads) t.join();
  }

  if (state_.stopping()) {
    log.Warning("agent stopped: " + state_.stop_reason());
    return state_.exit_code();
  }
  int gave_up = static_cast<int>(std::count(outcomes.begin(), outcomes.end(), SlotOutcome::kGaveUp));
  if (gave_up == n) {
    log.Error("no worker could be started: all " + std::to_string(n) +
              " worker process(es) failed to start or initialize; last error: " +
              start_errors.back() + " (details in " + layout.error_dir().string() + ")");
    return kAgentExitNoWorkers;
  }
  if (gave_up > 0) {
    log.Warning(std::to_string(gave_up) + " of " + std::to_string(n) +
                " worker slots gave up (details in " + layout.error_dir().string() + ")");
  }
  log.Info("the job hands out no more work; agent exits");
  return kAgentExitFinished;
}

Result<int> RunAgent(const AgentOptions& options) {
  signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals, old_mask;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);

  Agent agent(options);
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    int sig = 0;
    while (sigwait(&stop_signals, &sig) != 0) {
    }
    if (done.load()) return;  // woken by the agent's own end
    const char* abbrev = sigabbrev_np(sig);
    agent.Stop(128 + sig, std::string("received SIG") + (abbrev ? abbrev : "?"));
  });
  auto result = agent.Run();
  done.store(true);
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  return result;
}

}  // namespace lote::agent
