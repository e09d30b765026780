// The slurm compute backend: each agent is a one-node Slurm batch job.
//
// The caller's thread never waits on Slurm: Launch() and Stop() only record
// what is wanted; the launcher's thread submits (sbatch), cancels (scancel)
// and watches (squeue, then scontrol or sacct for how a job ended).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "compute/agent_launcher.h"
#include "compute/command.h"
#include "compute/slurm_status.h"

namespace lote::compute {

namespace {

using Clock = std::chrono::steady_clock;

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

std::string SlurmJobName(const AgentSpec& spec) { return "lote-" + spec.job + "-node" + std::to_string(spec.node); }

// lote's own options first: a compute's sbatch_args come after them and win.
std::vector<std::string> SettingsArgs(const SlurmSettings& s) {
  std::vector<std::string> args;
  if (!s.partition.empty()) args.push_back("--partition=" + s.partition);
  if (!s.account.empty()) args.push_back("--account=" + s.account);
  if (!s.time_limit.empty()) args.push_back("--time=" + s.time_limit);
  args.insert(args.end(), s.sbatch_args.begin(), s.sbatch_args.end());
  return args;
}

class SlurmLauncher final : public AgentLauncher {
 public:
  SlurmLauncher(std::string binary, SlurmTools tools)
      : binary_(std::move(binary)), tools_(std::move(tools)), thread_([this] { Loop(); }) {}

  ~SlurmLauncher() override {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    thread_.join();
    // Like local agents, Slurm's go with the server that started them; a
    // server that starts again resumes the job with new ones.
    std::vector<std::string> ids;
    for (auto& [h, a] : agents_) {
      if (!a.slurm_id.empty() && !a.exit && !a.cancel_sent) ids.push_back(a.slurm_id);
    }
    Cancel(ids);
  }

  Result<AgentHandle> Launch(const AgentSpec& spec) override {
    std::lock_guard lock(mu_);
    AgentHandle h = next_handle_++;
    Agent& a = agents_[h];
    a.spec = spec;
    a.state = "submitting";
    cv_.notify_all();
    return h;
  }

  std::optional<AgentExit> Poll(AgentHandle handle) override {
    std::lock_guard lock(mu_);
    auto it = agents_.find(handle);
    if (it == agents_.end()) return AgentExit{};
    if (!it->second.exit) return std::nullopt;
    AgentExit e = *it->second.exit;
    agents_.erase(it);
    return e;
  }

  void Stop(AgentHandle handle) override {
    {
      std::lock_guard lock(mu_);
      auto it = agents_.find(handle);
      if (it == agents_.end()) return;
      it->second.stop_requested = true;
    }
    cv_.notify_all();
  }

  AgentPlace Where(AgentHandle handle) override {
    std::lock_guard lock(mu_);
    auto it = agents_.find(handle);
    if (it == agents_.end()) return {};
    const Agent& a = it->second;
    std::string state = a.state;
    if (!a.reason.empty() && a.reason != "None") state += " (" + a.reason + ")";
    return {a.slurm_id.empty() ? "" : "slurm job " + a.slurm_id, a.host, state};
  }

 private:
  // A collected exit nobody polled is forgotten after this.
  static constexpr auto kKeepUnpolled = std::chrono::minutes(10);

  struct Agent {
    AgentSpec spec;
    std::string slurm_id;  // empty until sbatch answered
    bool stop_requested = false;
    bool cancel_sent = false;
    std::string state, host, reason;
    std::optional<AgentExit> exit;
    Clock::time_point forget_at{};
    std::optional<Clock::time_point> missing_since;
  };

  CommandOptions Options(std::vector<std::string> env = {}) const {
    CommandOptions o;
    o.timeout = std::chrono::milliseconds(tools_.command_timeout_ms);
    o.env = std::move(env);
    return o;
  }

  void Loop() {
    auto next_poll = Clock::now();
    for (;;) {
      std::vector<std::pair<AgentHandle, AgentSpec>> to_submit;
      std::vector<std::string> to_cancel;
      {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return closing_ || HasWork(); });
        if (closing_) return;
        const auto now = Clock::now();
        for (auto it = agents_.begin(); it != agents_.end();) {
          Agent& a = it->second;
          if (a.stop_requested) {
            // Nobody polls a stopped agent: cancel it if it was submitted
            // (one not submitted yet never will be) and forget it.
            if (!a.slurm_id.empty() && !a.exit) to_cancel.push_back(a.slurm_id);
            it = agents_.erase(it);
            continue;
          }
          if (a.exit && now >= a.forget_at) {
            it = agents_.erase(it);
            continue;
          }
          if (a.slurm_id.empty() && !a.exit) to_submit.emplace_back(it->first, a.spec);
          ++it;
        }
      }
      Cancel(to_cancel);
      for (auto& [h, spec] : to_submit) Submit(h, spec);
      if (Clock::now() >= next_poll) {
        Watch();
        next_poll = Clock::now() + std::chrono::milliseconds(tools_.poll_interval_ms);
      }
    }
  }

  bool HasWork() const {
    for (const auto& [h, a] : agents_) {
      if (a.stop_requested || (a.slurm_id.empty() && !a.exit)) return true;
    }
    return false;
  }

  void Submit(AgentHandle h, const AgentSpec& spec) {
    const std::string name = SlurmJobName(spec);
    // A job of this node left by an earlier life of the server (or an earlier
    // attempt) would only compete with the new one.
    if (auto r = RunCommand({tools_.scancel, "--name=" + name}, Options()); !r || !r->ok()) {
      std::fprintf(stderr, "lote: slurm: cannot cancel leftover jobs named %s: %s\n", name.c_str(),
                   r ? r->Message().c_str() : r.error().message().c_str());
    }
    const std::string binary = spec.compute.slurm.agent_binary.empty() ? binary_ : spec.compute.slurm.agent_binary;
    std::vector<std::string> argv = {tools_.sbatch, "--parsable", "--job-name=" + name,
                                     "--output=/tmp/%x-%j.txt", "--open-mode=append", "--nodes=1",
                                     "--ntasks=1"};
    for (auto& a : SettingsArgs(spec.compute.slurm)) argv.push_back(std::move(a));
    argv.push_back("--wrap=exec " + ShellQuote(binary) + " agent --server " + ShellQuote(spec.server_url) +
                   " --job " + ShellQuote(spec.job) + " --node " + std::to_string(spec.node));
    auto r = RunCommand(argv, Options({"LOTE_TOKEN=" + spec.token}));
    std::optional<std::string> id;
    std::string error;
    if (!r) {
      error = r.error().message();
    } else if (!r->ok()) {
      error = r->Message();
    } else if (id = ParseSbatchId(r->out); !id) {
      error = "sbatch answered no job id: " + r->Message();
    }
    std::unique_lock lock(mu_);
    auto it = agents_.find(h);
    if (it == agents_.end() || it->second.stop_requested) {
      // Stopped while sbatch ran: the job must not outlive the request.
      lock.unlock();
      if (id) Cancel({*id});
      return;
    }
    Agent& a = it->second;
    if (!id) {
      a.exit = AgentExit{AgentExit::Kind::kNotStarted, 0, 0, error};
      a.forget_at = Clock::now() + kKeepUnpolled;
      return;
    }
    a.slurm_id = *id;
    a.state = "PENDING";
  }

  void Cancel(const std::vector<std::string>& ids) {
    if (ids.empty()) return;
    std::vector<std::string> argv = {tools_.scancel};
    argv.insert(argv.end(), ids.begin(), ids.end());
    auto r = RunCommand(argv, Options());
    if (!r || !r->ok()) {
      std::string all;
      for (const auto& id : ids) all += (all.empty() ? "" : ",") + id;
      std::fprintf(stderr, "lote: slurm: scancel %s: %s\n", all.c_str(),
                   r ? r->Message().c_str() : r.error().message().c_str());
    }
  }

  // One squeue for every watched job; scontrol (then sacct) for those that
  // ended or that squeue no longer shows.
  void Watch() {
    std::vector<std::pair<std::string, std::string>> watched;  // slurm id, job name
    {
      std::lock_guard lock(mu_);
      for (const auto& [h, a] : agents_) {
        if (!a.slurm_id.empty() && !a.exit && !a.stop_requested) watched.emplace_back(a.slurm_id, SlurmJobName(a.spec));
      }
    }
    if (watched.empty()) return;
    std::string names;
    for (const auto& [id, name] : watched) names += (names.empty() ? "" : ",") + name;
    auto q = RunCommand({tools_.squeue, "-h", "--states=all", "-o", "%i|%T|%N|%r", "--name=" + names}, Options());
    if (!q || !q->ok()) {
      // Slurm is not answering: nothing is concluded (leases still expire).
      std::string why = q ? q->Message() : q.error().message();
      std::lock_guard lock(mu_);
      for (auto& [h, a] : agents_) {
        if (!a.slurm_id.empty() && !a.exit) a.reason = "squeue: " + why;
      }
      return;
    }
    std::map<std::string, SlurmJob> seen;
    for (SlurmJob& j : ParseSqueue(q->out)) seen[j.id] = std::move(j);
    std::map<std::string, std::optional<SlurmJob>> ended;  // id → how it ended, if Slurm still knows
    for (const auto& [id, name] : watched) {
      auto it = seen.find(id);
      if (it != seen.end() && SlurmJobAlive(it->second.state)) continue;
      ended[id] = Final(id);
    }
    const auto now = Clock::now();
    std::lock_guard lock(mu_);
    for (auto& [h, a] : agents_) {
      if (a.slurm_id.empty() || a.exit || a.stop_requested) continue;
      if (auto it = seen.find(a.slurm_id); it != seen.end() && SlurmJobAlive(it->second.state)) {
        a.state = it->second.state;
        a.host = it->second.nodes;
        a.reason = it->second.reason;
        a.missing_since.reset();
        continue;
      }
      auto e = ended.find(a.slurm_id);
      if (e == ended.end()) continue;
      if (e->second && !SlurmJobAlive(e->second->state)) {
        if (!e->second->nodes.empty()) a.host = e->second->nodes;
        a.state = e->second->state;
        a.exit = SlurmJobExit(*e->second, false);
        if (a.exit->kind != AgentExit::Kind::kLost && a.exit->kind != AgentExit::Kind::kNotStarted) {
          a.exit->detail = "Slurm job " + a.slurm_id + (a.host.empty() ? "" : " on " + a.host) +
                           "; its output is /tmp/" + SlurmJobName(a.spec) + "-" + a.slurm_id + ".txt on that node";
        }
        a.forget_at = now + kKeepUnpolled;
        continue;
      }
      if (!a.missing_since) a.missing_since = now;
      if (now - *a.missing_since >= std::chrono::milliseconds(tools_.missing_grace_ms)) {
        a.exit = AgentExit{AgentExit::Kind::kLost, 0, 0, "Slurm job " + a.slurm_id + " vanished from Slurm"};
        a.forget_at = now + kKeepUnpolled;
      }
    }
  }

  // How a job that squeue no longer shows alive ended: scontrol while
  // slurmctld remembers it, else the accounting database (if there is one).
  std::optional<SlurmJob> Final(const std::string& id) {
    if (auto r = RunCommand({tools_.scontrol, "show", "job", "-o", id}, Options()); r && r->ok()) {
      if (auto j = ParseScontrolJob(r->out)) return j;
    }
    if (auto r = RunCommand({tools_.sacct, "-n", "-P", "-X", "-o", "JobID,State,ExitCode,NodeList", "-j", id},
                            Options());
        r && r->ok()) {
      if (auto j = ParseSacct(r->out)) return j;
    }
    return std::nullopt;
  }

  const std::string binary_;
  const SlurmTools tools_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<AgentHandle, Agent> agents_;
  AgentHandle next_handle_ = 1;
  bool closing_ = false;
  std::thread thread_;  // last: started once the rest is ready
};

}  // namespace

std::unique_ptr<AgentLauncher> MakeSlurmLauncher(std::string lote_binary, SlurmTools tools) {
  return std::make_unique<SlurmLauncher>(std::move(lote_binary), std::move(tools));
}

Status CheckSlurmSettings(const SlurmSettings& settings, const SlurmTools& tools) {
  std::vector<std::string> argv = {tools.sbatch, "--test-only", "--job-name=lote-check", "--output=/dev/null",
                                   "--nodes=1", "--ntasks=1"};
  for (auto& a : SettingsArgs(settings)) argv.push_back(std::move(a));
  argv.push_back("--wrap=true");
  CommandOptions o;
  o.timeout = std::chrono::milliseconds(std::min(tools.command_timeout_ms, 15'000));
  auto r = RunCommand(argv, o);
  if (!r) {
    if (r.error().code() == ErrorCode::kNotFound) {
      return FailedPrecondition("a slurm compute needs Slurm's sbatch on the server's host: " + r.error().message());
    }
    return Error(r.error().code(), "cannot ask Slurm about the compute: " + r.error().message());
  }
  if (!r->ok()) return InvalidArgument("Slurm refused the compute's settings: " + r->Message());
  return {};
}

}  // namespace lote::compute
