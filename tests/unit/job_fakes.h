// Fakes for the job manager's seams: a clock the test moves, a launcher that
// starts nothing and lets the test decide how agents end, and a job store
// that forwards to a real SQLite store but lets a test act or fail at a
// chosen call (to race a cancel against a transition, or lose the store at
// the worst moment).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "compute/agent_launcher.h"
#include "store/job_store.h"

namespace lote::testing {

class FakeClock {
 public:
  int64_t Now() const { return now_.load(); }
  void Advance(int64_t ms) { now_ += ms; }
  std::function<int64_t()> Fn() {
    return [this] { return Now(); };
  }

 private:
  std::atomic<int64_t> now_{1'700'000'000'000};
};

class FakeLauncher final : public compute::AgentLauncher {
 public:
  Result<compute::AgentHandle> Launch(const compute::AgentSpec& spec) override {
    std::lock_guard lock(mu_);
    compute::AgentHandle h = next_++;
    launched_.push_back(spec);
    running_[h] = spec.node;
    return h;
  }
  std::optional<compute::AgentExit> Poll(compute::AgentHandle h) override {
    std::lock_guard lock(mu_);
    auto it = exits_.find(h);
    if (it != exits_.end()) {
      auto e = it->second;
      exits_.erase(it);
      running_.erase(h);
      return e;
    }
    if (!running_.contains(h)) return compute::AgentExit{};
    return std::nullopt;
  }
  void Stop(compute::AgentHandle h) override {
    std::lock_guard lock(mu_);
    running_.erase(h);
    ++stops_;
  }
  compute::AgentPlace Where(compute::AgentHandle h) override {
    std::lock_guard lock(mu_);
    if (!running_.contains(h)) return {};
    return {"fake " + std::to_string(h), "fakehost", "running"};
  }
  // The running agent of `node` ends with `exit` (seen on the next Poll).
  bool End(int node, compute::AgentExit exit) {
    std::lock_guard lock(mu_);
    for (auto& [h, n] : running_) {
      if (n == node && !exits_.contains(h)) {
        exits_[h] = exit;
        return true;
      }
    }
    return false;
  }
  size_t launched() {
    std::lock_guard lock(mu_);
    return launched_.size();
  }
  size_t running() {
    std::lock_guard lock(mu_);
    return running_.size() - exits_.size();
  }

 private:
  std::mutex mu_;
  compute::AgentHandle next_ = 1;
  std::vector<compute::AgentSpec> launched_;
  std::map<compute::AgentHandle, int> running_;
  std::map<compute::AgentHandle, compute::AgentExit> exits_;
  int stops_ = 0;
};

// Forwards to `real`. Before a Transition, `on_transition` runs (it may act
// on the manager, e.g. request a cancel, or return an error to make the
// transition fail as a store failure would). `fail_next` makes the next
// calls of an operation fail.
class HookedJobStore final : public store::JobStore {
 public:
  explicit HookedJobStore(store::JobStore& real) : real_(real) {}

  std::function<Status(const std::string& job, store::JobStatus to)> on_transition;
  std::function<void(const std::string& job)> on_add_tasks;
  std::atomic<int> fail_get_job{0};

  Status CreateJob(const nlohmann::json& spec) override { return real_.CreateJob(spec); }
  Result<store::JobRecord> GetJob(const std::string& name) override {
    if (fail_get_job > 0) {
      --fail_get_job;
      return Internal("metadata store get job: disk I/O error (injected)");
    }
    return real_.GetJob(name);
  }
  Result<std::vector<store::JobRecord>> ListJobs(const std::string& endpoint) override {
    return real_.ListJobs(endpoint);
  }
  Result<bool> Transition(const std::string& job, const std::vector<store::JobStatus>& from, store::JobStatus to,
                          const store::JobUpdate& update) override {
    if (on_transition) LOTE_TRY(on_transition(job, to));
    return real_.Transition(job, from, to, update);
  }
  Result<store::JobCounters> Counters(const std::string& job) override { return real_.Counters(job); }
  Status DeleteTasks(const std::string& job) override { return real_.DeleteTasks(job); }
  Result<bool> DeleteJob(const std::string& job, const std::vector<store::JobStatus>& ended) override {
    return real_.DeleteJob(job, ended);
  }
  Status AddTasks(const std::string& job, const std::vector<nlohmann::json>& items) override {
    if (on_add_tasks) on_add_tasks(job);
    return real_.AddTasks(job, items);
  }
  Result<std::vector<store::Task>> LeaseTasks(const std::string& job, int max, const std::string& worker,
                                              int64_t lease_ms, int64_t now_ms) override {
    return real_.LeaseTasks(job, max, worker, lease_ms, now_ms);
  }
  Result<store::Task> FinishTask(const std::string& job, int64_t task, const store::TaskReport& report,
                                 int max_retries) override {
    return real_.FinishTask(job, task, report, max_retries);
  }
  Result<std::vector<store::CommitOutcome>> FinishTasks(const std::string& job,
                                                        const std::vector<store::TaskCommit>& commits,
                                                        int max_retries) override {
    return real_.FinishTasks(job, commits, max_retries);
  }
  Result<int> ReleaseTasks(const std::string& job,
                           const std::vector<std::pair<int64_t, std::string>>& leases) override {
    return real_.ReleaseTasks(job, leases);
  }
  Result<int> ExpireLeases(const std::string& job, int64_t now_ms, int max_retries,
                           const std::string& reason) override {
    return real_.ExpireLeases(job, now_ms, max_retries, reason);
  }
  Result<int> ExpireLeasesOf(const std::string& job, const std::string& worker_prefix, int max_retries,
                             const std::string& reason) override {
    return real_.ExpireLeasesOf(job, worker_prefix, max_retries, reason);
  }
  Result<int> ReleaseLeases(const std::string& job) override { return real_.ReleaseLeases(job); }
  Result<int> ReleaseLeasesOf(const std::string& job, const std::string& worker_prefix) override {
    return real_.ReleaseLeasesOf(job, worker_prefix);
  }
  Result<store::StoppedTasks> StopUnfinished(const std::string& job, const std::string& reason) override {
    return real_.StopUnfinished(job, reason);
  }
  Result<int> RequeueDone(const std::string& job, const std::vector<int64_t>& tasks,
                          const std::string& reason) override {
    return real_.RequeueDone(job, tasks, reason);
  }
  Result<std::vector<store::Task>> ListTasks(const std::string& job, int64_t after_id, int limit) override {
    return real_.ListTasks(job, after_id, limit);
  }
  Result<std::vector<store::Task>> ListFailedTasks(const std::string& job, int64_t after_id,
                                                   int limit) override {
    return real_.ListFailedTasks(job, after_id, limit);
  }
  Result<store::Task> GetTask(const std::string& job, int64_t task) override { return real_.GetTask(job, task); }

 private:
  store::JobStore& real_;
};

}  // namespace lote::testing
