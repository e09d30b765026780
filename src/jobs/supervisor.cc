// JobManager's supervision of a Running job, on the scheduler thread: leases
// that expired, the error threshold, a storage failure, the end of the work,
// and the agents (started, watched, restarted a few times, stopped).
#include <cstdio>

#include "agent/agent_options.h"
#include "common/util.h"
#include "jobs/job_manager_impl.h"
#include "jobs/job_reports.h"
#include "jobs/job_state.h"
#include "jobs/job_view.h"

namespace lote::jobs {

using store::JobStatus;
namespace fs = std::filesystem;

namespace {

// The last line of an agent's log that mentions `needle`, for error messages.
std::string LastLineWith(const fs::path& log, std::string_view needle) {
  auto text = ReadFile(log);
  if (!text) return "";
  std::string found;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    std::string_view line(text->data() + start, end - start);
    if (line.find(needle) != std::string_view::npos) found = line;
    start = end + 1;
  }
  size_t at = found.find(needle);
  return at == std::string::npos ? found : found.substr(at);
}

fs::path NodeLogDir(const JobDir& dir, int node) {
  return dir.logs() / "sys" / "node" / ("node" + std::to_string(node));
}

const std::vector<JobStatus> kRunning = {JobStatus::kRunning};

}  // namespace

void JobManagerImpl::Supervise(const store::JobRecord& rec, const JobSpec& spec, Active& active) {
  const std::string& name = spec.name;
  const JobSettings& s = spec.settings;
  const JobDir dir = DirOf(name);
  auto expired = options_.store->ExpireLeases(name, Now(), s.max_retries, "lease expired (agent lost)");
  if (!expired) {
    Log("job '" + name + "': cannot expire leases: " + expired.error().message());
  } else if (*expired > 0) {
    Event(name, std::to_string(*expired) + " leases expired");
    if (options_.metrics) options_.metrics->LeaseExpirations(*expired);
  }
  if (auto storage = TakeStorageError(name)) {
    return Close(name, kRunning, JobStatus::kFailed, "the control plane cannot store the job's results: " + *storage,
                 active);
  }
  auto c = options_.store->Counters(name);
  if (!c) return;  // the next tick tries again
  if (s.error_threshold >= 0 && c->items_failed > s.error_threshold) {
    return Close(name, kRunning, JobStatus::kFailed,
                 "error_threshold exceeded: " + std::to_string(c->items_failed) + " failed items > error_threshold " +
                     std::to_string(s.error_threshold),
                 active);
  }
  if (c->tasks_done + c->tasks_failed >= c->tasks_total) {
    auto moved = Move(*options_.store, name, kRunning, JobStatus::kFinalizing);
    if (moved && *moved) {
      Event(name, "status Finalizing");
      store::JobRecord now = rec;
      now.counters = *c;
      StartFinalizing(now, spec, active);
    }
    return;
  }
  AssembleEarly(rec, spec, c->tasks_done + c->tasks_failed, active);
  // Agents that ended while work remains are started again, a few times.
  if (active.agents.empty()) LaunchAgents(spec, active);
  for (size_t node = 0; node < active.agents.size(); ++node) {
    if (!active.agents[node] && active.restarts[node] > options_.max_agent_restarts) {
      return Close(name, kRunning, JobStatus::kFailed,
                   "the agent of node " + std::to_string(node) + " could not be started; see logs/lote_job.txt",
                   active);
    }
  }
  for (size_t node = 0; node < active.agents.size(); ++node) {
    auto& h = active.agents[node];
    if (!h) continue;
    auto exit = options_.launcher->Poll(*h);
    if (!exit) continue;
    h.reset();
    const std::string what = exit->Describe();
    const std::string prefix = "node" + std::to_string(node) + "/";
    // Its workers died with it: their mini-batches need not wait out the
    // lease. When its cluster ended it (node down, preempted, canceled
    // outside lote) the work was not at fault and no attempt is counted.
    auto lost = exit->kind == compute::AgentExit::Kind::kLost
                    ? options_.store->ReleaseLeasesOf(name, prefix)
                    : options_.store->ExpireLeasesOf(name, prefix, s.max_retries,
                                                     "the agent of node " + std::to_string(node) + " " + what);
    if (!lost) {
      Log("job '" + name + "': cannot hand back the leases of node " + std::to_string(node) + ": " +
          lost.error().message());
    } else if (*lost > 0) {
      if (options_.metrics) options_.metrics->LeaseExpirations(*lost);
      Event(name, std::to_string(*lost) + " mini-batches of node " + std::to_string(node) + " queued again");
    }
    if (exit->kind == compute::AgentExit::Kind::kExited && exit->code == agent::kAgentExitNoWorkers) {
      // No worker could start: retrying will not help.
      std::string why = LastLineWith(NodeLogDir(dir, static_cast<int>(node)) / "agent.txt", "no worker could be started");
      return Close(name, kRunning, JobStatus::kFailed,
                   why.empty() ? "no worker could be started on node " + std::to_string(node) : why, active);
    }
    if (++active.restarts[node] > options_.max_agent_restarts) {
      return Close(name, kRunning, JobStatus::kFailed,
                   "the agent of node " + std::to_string(node) + " " + what + " more than " +
                       std::to_string(options_.max_agent_restarts) + " times; see logs/sys/node/node" +
                       std::to_string(node),
                   active);
    }
    Event(name, "agent of node " + std::to_string(node) + " " + what + "; starting it again");
    active.next_launch_ms = Now() + 500 * active.restarts[node];
  }
  if (Now() >= active.next_launch_ms) LaunchAgents(spec, active);
  int64_t now = Now();
  if (now - active.last_overview_ms > 1000) {
    active.last_overview_ms = now;
    PublishAgents(name, active);
    store::JobRecord view = rec;
    view.counters = *c;
    if (Status st = WriteProgressOverview(dir, JobView(view, now)); !st) {
      Log("job '" + name + "': " + st.error().message());
    }
  }
}

void JobManagerImpl::LaunchAgents(const JobSpec& spec, Active& active) {
  const std::string& name = spec.name;
  const int n = spec.settings.instance_count;
  {
    std::lock_guard lock(agents_mu_);
    live_agents_[name].first = spec.compute.type;
  }
  active.agents.resize(static_cast<size_t>(n));
  active.restarts.resize(static_cast<size_t>(n), 0);
  for (int node = 0; node < n; ++node) {
    if (active.agents[static_cast<size_t>(node)]) continue;
    fs::path log = NodeLogDir(DirOf(name), node);
    std::error_code ec;
    fs::create_directories(log, ec);
    compute::AgentSpec agent{spec.compute, options_.base_url, options_.agent_token(name), name, node,
                             (log / "agent.stdout.txt").string()};
    auto handle = options_.launcher->Launch(agent);
    if (!handle) {
      Event(name, "cannot start agent for node " + std::to_string(node) + ": " + handle.error().message());
      ++active.restarts[static_cast<size_t>(node)];
      active.next_launch_ms = Now() + 1000;
      continue;
    }
    active.agents[static_cast<size_t>(node)] = *handle;
    Event(name, "started agent for node " + std::to_string(node) + " on compute '" +
                                 spec.compute.name + "' (" + spec.compute.type + ")");
  }
  PublishAgents(name, active);
}

void JobManagerImpl::PublishAgents(const std::string& name, const Active& active) {
  nlohmann::json agents = nlohmann::json::array();
  for (size_t node = 0; node < active.agents.size(); ++node) {
    nlohmann::json a = {{"node", node}, {"restarts", active.restarts[node]}};
    if (const auto& h = active.agents[node]) {
      compute::AgentPlace where = options_.launcher->Where(*h);
      a["id"] = where.id;
      a["host"] = where.host;
      a["state"] = where.state;
    } else {
      a["state"] = "not running";
    }
    agents.push_back(std::move(a));
  }
  int64_t live = 0;
  for (const auto& h : active.agents) live += h.has_value() ? 1 : 0;
  std::lock_guard lock(agents_mu_);
  agents_[name] = std::move(agents);
  live_agents_[name].second = live;
}

std::map<std::string, int64_t> JobManagerImpl::AgentsByComputeType() {
  std::map<std::string, int64_t> out;
  std::lock_guard lock(agents_mu_);
  for (const auto& [job, typed] : live_agents_) out[typed.first] += typed.second;
  return out;
}

void JobManagerImpl::StopAgents(const std::string& name, Active& active) {
  std::lock_guard lock(agents_mu_);
  auto seen = agents_.find(name);
  for (size_t node = 0; node < active.agents.size(); ++node) {
    auto& h = active.agents[node];
    if (!h) continue;
    options_.launcher->Stop(*h);
    h.reset();
    if (seen != agents_.end() && node < seen->second.size()) seen->second[node]["state"] = "stopped";
  }
  live_agents_.erase(name);
}

}  // namespace lote::jobs
