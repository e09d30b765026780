#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "compute/agent_launcher.h"
#include "runtime/worker_process.h"

extern char** environ;

namespace lote::compute {

namespace {

class LocalLauncher final : public AgentLauncher {
 public:
  explicit LocalLauncher(std::string binary)
      : binary_(std::move(binary)), reaper_([this] { Reap(); }) {}
  ~LocalLauncher() override {
    std::vector<int> pids;
    {
      std::lock_guard lock(mu_);
      for (auto& [pid, _] : running_) pids.push_back(pid);
    }
    for (int pid : pids) Stop(pid);
    {
      std::lock_guard lock(mu_);
      closing_ = true;  // the reaper ends once every stopping agent is gone
    }
    reaper_.join();
  }

  Result<int> Launch(const AgentSpec& spec) override {
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
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
      ::close(log_fd);
      return IoError(std::string("cannot start agent: fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
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
      ::execve(binary_.c_str(), argv.data(), envp.data());
      _exit(127);
    }
    ::close(log_fd);
    ::setpgid(pid, pid);
    std::lock_guard lock(mu_);
    running_[pid] = true;
    return static_cast<int>(pid);
  }

  std::optional<std::string> Poll(int handle) override {
    std::lock_guard lock(mu_);
    auto done = ended_.find(handle);
    if (done != ended_.end()) return done->second;
    int status = 0;
    pid_t r = ::waitpid(handle, &status, WNOHANG);
    if (r == 0) return std::nullopt;
    std::string what = r < 0 ? "is gone" : runtime::DescribeWaitStatus(status);
    running_.erase(handle);
    ended_[handle] = what;
    return what;
  }

  // Sends SIGTERM and returns at once: the scheduler thread that calls this
  // must not wait for an agent to exit. The reaper thread collects it, and
  // kills its group after kStopGrace.
  void Stop(int handle) override {
    std::lock_guard lock(mu_);
    if (ended_.contains(handle) || stopping_.contains(handle)) return;
    ::kill(-handle, SIGTERM);
    stopping_[handle] = std::chrono::steady_clock::now() + kStopGrace;
  }

 private:
  static constexpr auto kStopGrace = std::chrono::seconds(5);

  void Reap() {
    for (;;) {
      {
        std::lock_guard lock(mu_);
        auto now = std::chrono::steady_clock::now();
        for (auto it = stopping_.begin(); it != stopping_.end();) {
          int handle = it->first;
          if (ended_.contains(handle)) {  // Poll() collected it
            it = stopping_.erase(it);
            continue;
          }
          int status = 0;
          pid_t r = ::waitpid(handle, &status, WNOHANG);
          if (r == 0 && now < it->second) {
            ++it;
            continue;
          }
          if (r == 0) {
            ::kill(-handle, SIGKILL);
            ::waitpid(handle, nullptr, 0);
          }
          running_.erase(handle);
          ended_[handle] = r == 0 ? "killed" : r < 0 ? "is gone" : runtime::DescribeWaitStatus(status);
          it = stopping_.erase(it);
        }
        if (closing_ && stopping_.empty()) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  std::string binary_;
  std::mutex mu_;
  std::map<int, bool> running_;
  std::map<int, std::string> ended_;
  std::map<int, std::chrono::steady_clock::time_point> stopping_;  // SIGTERM sent; kill after
  bool closing_ = false;
  std::thread reaper_;  // last: started once the rest is ready
};

}  // namespace

std::unique_ptr<AgentLauncher> MakeLocalLauncher(std::string lote_binary) {
  return std::make_unique<LocalLauncher>(std::move(lote_binary));
}

}  // namespace lote::compute
