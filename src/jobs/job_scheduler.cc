// JobManager's scheduler: one thread that moves every unfinished job through
// its states, launches and watches agents, expires leases, enforces
// error_threshold and cancellation, and finalizes.
#include "common/util.h"
#include "jobs/job_manager_impl.h"
#include "jobs/planner.h"

namespace lote::jobs {

using nlohmann::json;
namespace fs = std::filesystem;

void JobManagerImpl::Start() {
  // Resume what a previous control plane left unfinished.
  auto jobs = options_.store->ListJobs("");
  if (jobs) {
    for (json& job : *jobs) {
      std::string s = job["status"];
      if (s == "Completed" || s == "Failed" || s == "Canceled") continue;
      std::string name = job["name"];
      auto released = options_.store->ReleaseLeases(name);
      AppendEvent(DirOf(name), "control plane restarted; resuming (" +
                                   std::to_string(released ? *released : 0) +
                                   " leased mini-batches queued again)");
      if (s == "Preparing") {
        (void)options_.store->DeleteTasks(name);
        job["status"] = "NotStarted";
        (void)options_.store->ReplaceJob(job);
      }
      std::lock_guard lock(active_mu_);
      active_[name] = Active{};
    }
  }
  thread_ = std::thread([this] { Loop(); });
}

void JobManagerImpl::Stop() {
  {
    std::lock_guard lock(wake_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(active_mu_);
  for (auto& [name, active] : active_) StopAgents(active);
}

void JobManagerImpl::Loop() {
  while (true) {
    {
      std::unique_lock lock(wake_mu_);
      wake_cv_.wait_for(lock, std::chrono::milliseconds(options_.tick_ms),
                        [this] { return woken_ || stopping_; });
      if (stopping_) return;
      woken_ = false;
    }
    Tick();
  }
}

void JobManagerImpl::Tick() {
  std::vector<std::string> names;
  {
    std::lock_guard lock(active_mu_);
    for (auto& [name, _] : active_) names.push_back(name);
  }
  for (const std::string& name : names) {
    Active active;
    {
      std::lock_guard lock(active_mu_);
      active = active_[name];
    }
    Step(name, active);
    std::lock_guard lock(active_mu_);
    if (active.finished) {
      active_.erase(name);  // finished
    } else {
      active_[name] = active;
    }
  }
}

void JobManagerImpl::Step(const std::string& name, Active& active) {
  auto loaded = options_.store->GetJob(name);
  if (!loaded) return;
  json job = *loaded;
  std::string s = job["status"];
  if (s == "NotStarted" || s == "Preparing") return Prepare(job, active);
  if (s == "CancelRequested") return EndEarly(job, active, "Canceled", "canceled by request");
  if (s == "Running") return Supervise(job, active);
  if (s == "Finalizing") return Finalize(job, active);
  active.agents.clear();
  active.finished = true;  // terminal: drop from the active set
}

void JobManagerImpl::Prepare(json& job, Active& active) {
  const std::string name = job["name"];
  (void)SetStatus(job, "Preparing");
  if (job["input"]["kind"] == "url") AppendEvent(DirOf(name), "downloading " + job["input"]["url"].get<std::string>());
  auto plan = PlanJob(job, DirOf(name).input(), *options_.store, options_.url_policy);
  if (!plan) {
    (void)options_.store->DeleteTasks(name);
    return EndEarly(job, active, "Failed", "preparing the input failed: " + plan.error().message());
  }
  AppendEvent(DirOf(name), "planned " + std::to_string(plan->files) + " files (" + std::to_string(plan->bytes) +
                               " bytes) into " + std::to_string(plan->tasks) + " mini-batches");
  job["started_at_ms"] = options_.now_ms();
  (void)SetStatus(job, "Running");
  LaunchAgents(job, active);
}

void JobManagerImpl::LaunchAgents(const json& job, Active& active) {
  const std::string name = job["name"];
  int n = job["settings"]["instance_count"];
  active.agents.resize(n, -1);
  active.restarts.resize(n, 0);
  for (int node = 0; node < n; ++node) {
    if (active.agents[node] >= 0) continue;
    fs::path log = DirOf(name).logs() / "sys" / "node" / ("node" + std::to_string(node));
    std::error_code ec;
    fs::create_directories(log, ec);
    compute::AgentSpec spec{options_.base_url, options_.agent_token(name), name, node, (log / "agent.stdout.txt").string()};
    auto handle = options_.launcher->Launch(spec);
    if (!handle) {
      AppendEvent(DirOf(name), "cannot start agent for node " + std::to_string(node) + ": " + handle.error().message());
      continue;
    }
    active.agents[node] = *handle;
    AppendEvent(DirOf(name), "started agent for node " + std::to_string(node));
  }
}

void JobManagerImpl::StopAgents(Active& active) {
  for (int& h : active.agents) {
    if (h >= 0) options_.launcher->Stop(h);
    h = -1;
  }
}

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

}  // namespace

void JobManagerImpl::Supervise(json& job, Active& active) {
  const std::string name = job["name"];
  const json& s = job["settings"];
  {
    std::lock_guard lock(tasks_mu_);
    auto expired = options_.store->ExpireLeases(name, options_.now_ms(), s["max_retries"], "lease expired (agent lost)");
    if (expired && *expired > 0) AppendEvent(DirOf(name), std::to_string(*expired) + " leases expired");
  }
  auto c = options_.store->Counters(name);
  if (!c) return;
  int64_t threshold = s["error_threshold"];
  if (threshold >= 0 && c->items_failed > threshold) {
    return EndEarly(job, active, "Failed", "error_threshold exceeded: " + std::to_string(c->items_failed) +
                                               " failed items > error_threshold " + std::to_string(threshold));
  }
  if (c->tasks_done + c->tasks_failed >= c->tasks_total) {
    (void)SetStatus(job, "Finalizing");
    return Finalize(job, active);
  }
  // Agents that ended while work remains are started again, a few times.
  if (active.agents.empty()) LaunchAgents(job, active);
  for (size_t node = 0; node < active.agents.size(); ++node) {
    int h = active.agents[node];
    if (h < 0) continue;
    auto ended = options_.launcher->Poll(h);
    if (!ended) continue;
    active.agents[node] = -1;
    {
      // Its workers died with it: their mini-batches need not wait out the lease.
      std::lock_guard lock(tasks_mu_);
      auto lost = options_.store->ExpireLeasesOf(name, "node" + std::to_string(node) + "/", s["max_retries"],
                                                 "the agent of node " + std::to_string(node) + " " + *ended);
      if (lost && *lost > 0) AppendEvent(DirOf(name), std::to_string(*lost) + " mini-batches of node " +
                                                          std::to_string(node) + " queued again");
    }
    fs::path agent_log = DirOf(name).logs() / "sys" / "node" / ("node" + std::to_string(node)) / "agent.txt";
    if (*ended == "exited with code 3") {  // no worker could start: retrying will not help
      std::string why = LastLineWith(agent_log, "no worker could be started");
      return EndEarly(job, active, "Failed", why.empty() ? "no worker could be started on node " + std::to_string(node) : why);
    }
    if (++active.restarts[node] > options_.max_agent_restarts) {
      return EndEarly(job, active, "Failed", "the agent of node " + std::to_string(node) + " " + *ended +
                                                 " more than " + std::to_string(options_.max_agent_restarts) +
                                                 " times; see logs/sys/node/node" + std::to_string(node));
    }
    AppendEvent(DirOf(name), "agent of node " + std::to_string(node) + " " + *ended + "; starting it again");
    active.next_launch_ms = options_.now_ms() + 500 * active.restarts[node];
  }
  if (options_.now_ms() >= active.next_launch_ms) LaunchAgents(job, active);
  int64_t now = options_.now_ms();
  if (now - active.last_overview_ms > 1000) {
    active.last_overview_ms = now;
    WriteProgressOverview(DirOf(name), View(job, *c));
  }
}

void JobManagerImpl::Finalize(json& job, Active& active) {
  const std::string name = job["name"];
  JobDir dir = DirOf(name);
  auto c = options_.store->Counters(name);
  if (!c) return;
  std::string status = "Completed", error;
  if (c->items_succeeded == 0) {
    status = "Failed";
    error = "no item succeeded (" + std::to_string(c->items_failed) + " failed); see logs/user/error";
  } else if (job["settings"]["output_action"] == "append_row") {
    auto rows = AssembleOutput(dir, name, *options_.store, job["output"]["local_path"].get<std::string>());
    if (!rows) {
      status = "Failed";
      error = "writing the output failed: " + rows.error().message();
    } else {
      job["output"]["written"] = true;
      job["output"]["rows"] = *rows;
      AppendEvent(dir, "wrote " + std::to_string(*rows) + " results to " + job["output"]["uri"].get<std::string>());
    }
  }
  job["ended_at_ms"] = options_.now_ms();
  // Reports first, status last: whoever sees the final status finds them written.
  json final_job = job;
  final_job["status"] = status;
  if (!error.empty()) final_job["error"] = error;
  json view = View(final_job, *c);
  WriteProgressOverview(dir, view);
  (void)WriteFinalReports(dir, view, *options_.store);
  (void)SetStatus(job, status, error);
  StopAgents(active);
  active.agents.clear();
  active.finished = true;
}

void JobManagerImpl::EndEarly(json& job, Active& active, const std::string& status, const std::string& why) {
  const std::string name = job["name"];
  StopAgents(active);
  {
    std::lock_guard lock(tasks_mu_);
    (void)options_.store->ExpireLeases(name, -1, -1, status == "Canceled" ? "canceled" : "job stopped: " + why);
    (void)options_.store->CancelPending(name, status == "Canceled" ? "canceled" : "not run: " + why);
  }
  job["ended_at_ms"] = options_.now_ms();
  auto c = options_.store->Counters(name);
  json final_job = job;
  final_job["status"] = status;
  final_job["error"] = why;
  json view = View(final_job, c ? *c : store::JobCounters{});
  WriteProgressOverview(DirOf(name), view);
  (void)WriteFinalReports(DirOf(name), view, *options_.store);
  (void)SetStatus(job, status, why);
  active.agents.clear();
  active.finished = true;
}

}  // namespace lote::jobs
