// The local compute backend: agents are child processes of `lote serve`.
//
// One reaper thread owns every waitpid(): it collects agents that exit,
// kills those that outlive their stop grace, and keeps a snapshot of each
// agent's process tree, so that the workers of an agent that dies or is
// killed (workers run in process groups of their own) are killed too.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "compute/agent_launcher.h"
#include "compute/process_tree.h"

extern char** environ;

namespace lote::compute {

namespace {

using Clock = std::chrono::steady_clock;

AgentExit ExitFromWaitStatus(int status) {
  AgentExit e;
  if (WIFEXITED(status)) {
    e.kind = AgentExit::Kind::kExited;
    e.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    e.kind = AgentExit::Kind::kKilled;
    e.signal = WTERMSIG(status);
  }
  return e;
}

class LocalLauncher final : public AgentLauncher {
 public:
  explicit LocalLauncher(std::string binary)
      : binary_(std::move(binary)), host_(HostName()), reaper_([this] { Reap(); }) {}

  ~LocalLauncher() override {
    {
      std::lock_guard lock(mu_);
      for (auto& [handle, agent] : agents_) BeginStop(agent);
      closing_ = true;  // the reaper ends once every agent is collected
    }
    reaper_.join();
  }

  Result<AgentHandle> Launch(const AgentSpec& spec) override {
    std::vector<std::string> args = {binary_, "agent", "--server", spec.server_url, "--job",
                                     spec.job, "--node", std::to_string(spec.node)};
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      if (std::strncmp(*e, "LOTE_TOKEN=", 11) != 0) env.emplace_back(*e);
    }
    env.push_back("LOTE_TOKEN=" + spec.token);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    int log_fd = ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) return IoError("cannot open agent log '" + spec.log_path + "': " + std::strerror(errno));
    std::lock_guard lock(mu_);  // no waitpid() of the reaper between fork and registration
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
      int err = errno;
      ::close(log_fd);
      return IoError(std::string("cannot start agent: fork: ") + std::strerror(err));
    }
    if (pid == 0) {
      // Only async-signal-safe calls from here to execve.
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) _exit(127);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the server blocks SIGTERM; agents must not
      int devnull = ::open("/dev/null", O_RDONLY);
      ::dup2(devnull, 0);
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      // The server's descriptors (listening socket, store, client
      // connections) are not the agent's: an agent holding the listening
      // socket would keep the port after the server exits.
      if (::syscall(SYS_close_range, 3u, ~0u, 0u) != 0) {
        for (int fd = 3; fd < 65536; ++fd) ::close(fd);
      }
      ::execve(binary_.c_str(), argv.data(), envp.data());
      _exit(127);
    }
    ::close(log_fd);
    ::setpgid(pid, pid);
    AgentHandle handle = next_handle_++;
    Agent agent;
    agent.pid = pid;
    agents_[handle] = std::move(agent);
    return handle;
  }

  std::optional<AgentExit> Poll(AgentHandle handle) override {
    std::lock_guard lock(mu_);
    auto it = agents_.find(handle);
    if (it == agents_.end()) return AgentExit{};  // forgotten or never launched: lost
    if (!it->second.exit) return std::nullopt;
    AgentExit exit = *it->second.exit;
    agents_.erase(it);
    return exit;
  }

  void Stop(AgentHandle handle) override {
    std::lock_guard lock(mu_);
    auto it = agents_.find(handle);
    if (it == agents_.end()) return;
    BeginStop(it->second);
  }

  AgentPlace Where(AgentHandle handle) override {
    std::lock_guard lock(mu_);
    auto it = agents_.find(handle);
    if (it == agents_.end()) return {};
    const Agent& a = it->second;
    return {"pid " + std::to_string(a.pid), host_, a.exit ? "ended" : a.stopping ? "stopping" : "running"};
  }

 private:
  static constexpr auto kStopGrace = std::chrono::seconds(5);
  static constexpr auto kTreeRefresh = std::chrono::milliseconds(500);
  // How long the exit of a collected agent is kept for Poll(): a stopped one
  // is rarely asked about; an unpolled one is, on the scheduler's next tick.
  static constexpr auto kKeepStopped = std::chrono::seconds(60);
  static constexpr auto kKeepUnpolled = std::chrono::minutes(10);

  struct Agent {
    pid_t pid = 0;
    bool stopping = false;
    bool stop_requested = false;  // Stop() was called: nobody may Poll()
    Clock::time_point forget_at{};  // a collected agent nobody polled is forgotten then
    Clock::time_point kill_at{};
    Clock::time_point tree_at{};
    std::vector<ProcessId> tree;  // its descendants when last looked at
    std::optional<AgentExit> exit;
  };

  void BeginStop(Agent& a) {
    if (a.stopping || a.exit) return;
    a.stopping = true;
    a.stop_requested = true;
    a.tree = Descendants(a.pid);
    a.tree_at = Clock::now();
    ::kill(-a.pid, SIGTERM);
    ::kill(-a.pid, SIGCONT);  // a stopped agent cannot act on SIGTERM
    a.kill_at = Clock::now() + kStopGrace;
  }

  void Reap() {
    for (;;) {
      {
        std::lock_guard lock(mu_);
        auto now = Clock::now();
        for (auto it = agents_.begin(); it != agents_.end();) {
          Agent& a = it->second;
          if (a.exit) {
            it = now >= a.forget_at ? agents_.erase(it) : std::next(it);
            continue;
          }
          // Peek first (WNOWAIT): until the zombie is reaped its id and group
          // id cannot be reused, so the kills below cannot hit a stranger.
          siginfo_t info{};
          int peek = ::waitid(P_PID, static_cast<id_t>(a.pid), &info, WEXITED | WNOHANG | WNOWAIT);
          if (peek == 0 && info.si_pid == 0) {
            if (a.stopping && now >= a.kill_at) {
              MergeTree(a);
              ::kill(-a.pid, SIGKILL);
              KillIfSame(a.tree);
            } else if (now - a.tree_at >= kTreeRefresh) {
              MergeTree(a);
            }
            ++it;
            continue;
          }
          // Whatever it started and left behind (a stopped worker, an
          // orphaned script) goes with it.
          if (peek == 0) {
            ::kill(-a.pid, SIGKILL);
            KillIfSame(a.tree);
          }
          int status = 0;
          pid_t r = ::waitpid(a.pid, &status, 0);
          a.exit = r == a.pid ? ExitFromWaitStatus(status) : AgentExit{};
          a.forget_at = now + (a.stop_requested ? kKeepStopped : kKeepUnpolled);
          ++it;
        }
        if (closing_ && agents_.empty()) return;
        if (closing_) {
          // Nobody polls any more: collected agents are forgotten at once.
          std::erase_if(agents_, [](const auto& kv) { return kv.second.exit.has_value(); });
          if (agents_.empty()) return;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // Adds the agent's current descendants to its snapshot (a worker restarted
  // since the last look is new; one that ended stays, harmlessly: KillIfSame
  // checks it is still the same process).
  static void MergeTree(Agent& a) {
    for (const ProcessId& p : Descendants(a.pid)) {
      if (std::find(a.tree.begin(), a.tree.end(), p) == a.tree.end()) a.tree.push_back(p);
    }
    if (a.tree.size() > 4096) a.tree.erase(a.tree.begin(), a.tree.begin() + 2048);
    a.tree_at = Clock::now();
  }

  static std::string HostName() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
    return name;
  }

  std::string binary_;
  std::string host_;
  std::mutex mu_;
  std::map<AgentHandle, Agent> agents_;
  AgentHandle next_handle_ = 1;
  bool closing_ = false;
  std::thread reaper_;  // last: started once the rest is ready
};

}  // namespace

std::unique_ptr<AgentLauncher> MakeLocalLauncher(std::string lote_binary) {
  return std::make_unique<LocalLauncher>(std::move(lote_binary));
}

}  // namespace lote::compute
