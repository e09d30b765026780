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
#include "agent/log_shipper.h"
#include "agent/output_shipper.h"
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

ControlPlaneOptions ClientOptions(const AgentOptions& o, AgentState* state) {
  return {.server_url = o.server_url,
          .token = o.token,
          .job = o.job,
          .unreachable_timeout_s = o.server_timeout_s,
          .state = state,
          .results_dir = {}};
}

Agent::Agent(AgentOptions options) : options_(std::move(options)) {}
Agent::~Agent() = default;

void Agent::Stop(int exit_code, const std::string& reason) { state_.Stop(exit_code, reason); }

Result<int> Agent::Run() {
  LOTE_TRY(CheckOptions(options_));
  SysLog log;  // stderr until the log directory is known

  const std::string job = "job '" + options_.job + "'";
  AgentConfig config;
  {
    ControlPlaneClient client(ClientOptions(options_, &state_));
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

  // Remote access: logs, inputs and output live in a run folder of the node
  // cache; the logs are shipped to the control plane as they grow.
  std::optional<RemoteRun> remote;
  if (config.access == Access::kRemote || config.input_access == Access::kRemote) {
    auto run = OpenRemoteRun(options_.cache_dir, options_.job, options_.node);
    if (!run) return run.error().WithContext(job);
    remote = std::move(*run);
    if (config.access == Access::kRemote) {
      config.log_dir = remote->logs().string();
      config.output_dir = remote->output().string();
    }
  }
  NodeLogLayout layout{config.log_dir, options_.node};
  if (auto st = layout.CreateDirectories(); !st) return st.error().WithContext(job);
  if (auto st = log.Open(layout.agent_log()); !st) return st.error().WithContext(job);
  log.set_level(ParseLogLevel(config.logging_level));
  std::unique_ptr<LogShipper> shipper;
  if (config.access == Access::kRemote) {
    shipper = std::make_unique<LogShipper>(LogShipperOptions{.local_root = remote->logs(),
                                                             .client = ClientOptions(options_, nullptr),
                                                             .period = options_.tuning.log_ship_period,
                                                             .final_timeout_s = 3,
                                                             .log = &log});
    shipper->Start();
  }

  Result<int> result = RunWorkers(config, layout, remote, log);
  // For the log the control plane gets; `lote agent` prints it on stderr.
  if (!result) log.Log(LogLevel::kError, job + ": " + result.error().message(), false);
  // What the workers wrote under AZUREML_BI_OUTPUT_PATH is the job's output:
  // shipped before the logs' last pass, so its warnings reach the control plane.
  bool outputs_kept = false;
  if (config.access == Access::kRemote) {
    ControlPlaneClient client(ClientOptions(options_, nullptr));
    OutputShipResult shipped = ShipOutputs(client, remote->output(), log);
    outputs_kept = !shipped.kept.empty();
  }
  if (shipper) {
    if (auto st = shipper->Finish(); !st) {
      log.Warning("some logs could not be shipped to the control plane; they stay in " +
                  remote->logs().string() + ": " + st.error().message());
      remote->dir.clear();  // kept
    }
  }
  if (outputs_kept && remote && !remote->dir.empty()) {
    log.Warning("the run folder " + remote->dir.string() + " is kept: it holds output files that were not shipped");
    remote->dir.clear();  // kept
  }
  if (remote && !remote->dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(remote->dir, ec);
  }
  return result;
}

Result<int> Agent::RunWorkers(AgentConfig& config, const NodeLogLayout& layout, const std::optional<RemoteRun>& remote,
                              SysLog& log) {
  const std::string job = "job '" + options_.job + "'";
  if (config.access == Access::kRemote) {
    ControlPlaneClient client(ClientOptions(options_, &state_));
    if (auto st = FetchArtifacts(client, remote->cache, config, log); !st) {
      if (state_.stopping()) return state_.exit_code();
      if (st.error().code() == ErrorCode::kUnavailable) {
        log.Error(job + ": " + st.error().message());
        return kAgentExitUnreachable;
      }
      return st.error().WithContext("fetching the job's model, code and runner");
    }
  }
  const int n = config.max_concurrency_per_instance;
  log.Info("agent for " + job + " on node " + std::to_string(options_.node) + ": " +
           std::to_string(n) + " worker process(es), run timeout " +
           std::to_string(config.timeout_s) + " s, worker '" +
           (config.runtime_kind == "native" ? std::string("lote worker") : config.python + " " + config.runner) +
           "', access " + (config.access == Access::kRemote ? "remote" : "direct") + " (inputs " +
           (config.input_access == Access::kRemote ? "remote" : "direct") + "), control plane " +
           options_.server_url);

  SlotEnv env{.options = &options_,
              .config = &config,
              .state = &state_,
              .log = &log,
              .layout = layout,
              .scratch_dir = remote ? remote->scratch() : std::filesystem::path()};
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
  // Where the user finds the failed starts: remote logs are read on the server.
  const std::string errors_at = config.access == Access::kRemote
                                    ? "logs/user/error/node" + std::to_string(options_.node)
                                    : layout.error_dir().string();
  int gave_up = static_cast<int>(std::count(outcomes.begin(), outcomes.end(), SlotOutcome::kGaveUp));
  if (gave_up == n) {
    log.Error("no worker could be started: all " + std::to_string(n) +
              " worker process(es) failed to start or initialize; last error: " +
              start_errors.back() + " (details in " + errors_at + ")");
    return kAgentExitNoWorkers;
  }
  if (gave_up > 0) {
    log.Warning(std::to_string(gave_up) + " of " + std::to_string(n) +
                " worker slots gave up (details in " + errors_at + ")");
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
