#include "runtime/worker_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "common/executable.h"
#include "common/unique_fd.h"
#include "runtime/deadline.h"

extern char** environ;

namespace lote::runtime {

namespace {

// The protocol descriptors a worker finds open (docs/worker-protocol.md).
constexpr int kWorkerInFd = 3;
constexpr int kWorkerOutFd = 4;


// What the child reports through the status pipe when it cannot exec.
struct ChildFailure {
  int stage;  // kStage*
  int err;    // errno
};
constexpr int kStageExec = 0;
constexpr int kStageChdir = 1;
constexpr int kStageSetup = 2;

// Everything the child needs, prepared before fork(): after fork() in a
// multi-threaded process the child may only make async-signal-safe calls, so
// it allocates nothing.
struct ChildPlan {
  const char* exe;
  char* const* argv;
  char* const* envp;
  const char* cwd;  // nullptr: keep
  int protocol_in, protocol_out, stdout_fd, stderr_fd, devnull, status_fd;
  int parent_death_signal;
  pid_t parent;
  int max_fd;  // for the close loop when close_range() is missing
};

[[noreturn]] void ChildFail(int status_fd, int stage) {
  ChildFailure f{stage, errno};
  ssize_t ignored = write(status_fd, &f, sizeof f);
  (void)ignored;
  _exit(127);
}

[[noreturn]] void RunChild(const ChildPlan& p) {
  // Signal mask and ignored signals survive exec: give the worker defaults.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s = 1; s < NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
  }
  setpgid(0, 0);
  if (p.parent_death_signal > 0) {
    prctl(PR_SET_PDEATHSIG, p.parent_death_signal);
    if (getppid() != p.parent) _exit(1);  // the agent died before prctl took effect
  }

  // Move every source above the targets first, so no dup2() clobbers one.
  int status_fd = fcntl(p.status_fd, F_DUPFD_CLOEXEC, 10);
  if (status_fd < 0) _exit(127);
  int src[5] = {p.devnull, p.stdout_fd, p.stderr_fd, p.protocol_in, p.protocol_out};
  int moved[5];
  for (int i = 0; i < 5; ++i) {
    moved[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10);
    if (moved[i] < 0) ChildFail(status_fd, kStageSetup);
  }
  int target[5] = {0, 1, 2, kWorkerInFd, kWorkerOutFd};
  for (int i = 0; i < 5; ++i) {
    if (dup2(moved[i], target[i]) < 0) ChildFail(status_fd, kStageSetup);  // clears CLOEXEC
  }
  // Everything else closes on exec (the status pipe stays usable until then).
  if (close_range(kWorkerOutFd + 1, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = kWorkerOutFd + 1; fd <= p.max_fd; ++fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  if (p.cwd != nullptr && chdir(p.cwd) != 0) ChildFail(status_fd, kStageChdir);
  execve(p.exe, p.argv, p.envp);
  ChildFail(status_fd, kStageExec);
}

std::map<std::string, std::string> BuildEnvironment(const WorkerOptions& o) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  for (const auto& name : o.env_remove) env.erase(name);
  for (const auto& [k, v] : o.env_extra) env[k] = v;
  env["LOTE_PROTOCOL_IN_FD"] = std::to_string(kWorkerInFd);
  env["LOTE_PROTOCOL_OUT_FD"] = std::to_string(kWorkerOutFd);
  return env;
}

Result<UniqueFd> OpenLog(const std::filesystem::path& path) {
  int fd = path.empty() ? open("/dev/null", O_WRONLY | O_CLOEXEC)
                        : open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot open '" + path.string() + "': " + std::strerror(errno));
  return UniqueFd(fd);
}

Status SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return IoError(std::string("fcntl: ") + std::strerror(errno));
  }
  return {};
}

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "unknown signal";
}

}  // namespace

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    std::string s = "killed by signal " + std::to_string(sig) + " (" + SignalName(sig) + ")";
    if (WCOREDUMP(status)) s += ", core dumped";
    return s;
  }
  return "ended with wait status " + std::to_string(status);
}

Result<std::unique_ptr<WorkerProcess>> WorkerProcess::Start(const WorkerOptions& o) {
  if (o.argv.empty() || o.argv[0].empty()) return InvalidArgument("worker command is empty");
  const std::string fail = "cannot start worker '" + o.argv[0] + "'";

  auto env = BuildEnvironment(o);
  auto path_it = env.find("PATH");
  const char* agent_path = std::getenv("PATH");
  std::string path_var = path_it != env.end() ? path_it->second
                         : agent_path         ? agent_path
                                              : "/usr/local/bin:/usr/bin:/bin";
  auto exe = FindExecutable(o.argv[0], path_var);
  if (!exe) return Error(ErrorCode::kNotFound, fail + ": " + exe.error().message());

  auto out_log = OpenLog(o.stdout_path);
  if (!out_log) return out_log.error().WithContext(fail);
  auto err_log = OpenLog(o.stderr_path);
  if (!err_log) return err_log.error().WithContext(fail);
  UniqueFd devnull(open("/dev/null", O_RDONLY | O_CLOEXEC));
  int to_worker[2], from_worker[2], status[2];
  if (devnull.get() < 0 || pipe2(to_worker, O_CLOEXEC) != 0) {
    return IoError(fail + ": " + std::strerror(errno));
  }
  UniqueFd to_r(to_worker[0]), to_w(to_worker[1]);
  if (pipe2(from_worker, O_CLOEXEC) != 0) return IoError(fail + ": " + std::strerror(errno));
  // Results carry megabytes of rows: a 1 MiB pipe (Linux's default limit for
  // an unprivileged process) takes them in 16 times fewer wakeups than the
  // default 64 KiB. Best effort: the default works, only slower.
  (void)::fcntl(from_worker[1], F_SETPIPE_SZ, 1 << 20);
  UniqueFd from_r(from_worker[0]), from_w(from_worker[1]);
  if (pipe2(status, O_CLOEXEC) != 0) return IoError(fail + ": " + std::strerror(errno));
  UniqueFd status_r(status[0]), status_w(status[1]);

  std::vector<std::string> env_strings;
  env_strings.reserve(env.size());
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = o.argv;
  std::vector<char*> argv;
  for (auto& s : argv_copy) argv.push_back(s.data());
  argv.push_back(nullptr);

  long open_max = sysconf(_SC_OPEN_MAX);
  ChildPlan plan{
      .exe = exe->c_str(),
      .argv = argv.data(),
      .envp = envp.data(),
      .cwd = o.cwd.empty() ? nullptr : o.cwd.c_str(),
      .protocol_in = to_r.get(),
      .protocol_out = from_w.get(),
      .stdout_fd = out_log->get(),
      .stderr_fd = err_log->get(),
      .devnull = devnull.get(),
      .status_fd = status_w.get(),
      .parent_death_signal = o.parent_death_signal,
      .parent = getpid(),
      .max_fd = static_cast<int>(std::clamp<long>(open_max, 256, 65536)),
  };

  pid_t pid = fork();
  if (pid < 0) return IoError(fail + ": fork: " + std::strerror(errno));
  if (pid == 0) RunChild(plan);

  // Also set the group from this side, so a Kill() right after Start() cannot
  // miss the child (EACCES once it has exec'd is fine: it did it itself).
  setpgid(pid, pid);
  to_r.Reset();
  from_w.Reset();
  status_w.Reset();

  auto worker = std::unique_ptr<WorkerProcess>(new WorkerProcess());
  worker->pid_ = pid;
  worker->pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));  // -1 on old kernels

  ChildFailure failure{};
  size_t got = 0;
  while (got < sizeof failure) {
    ssize_t r = read(status_r.get(), reinterpret_cast<char*>(&failure) + got, sizeof failure - got);
    if (r > 0) {
      got += static_cast<size_t>(r);
    } else if (r == 0 || errno != EINTR) {
      break;
    }
  }
  if (got == sizeof failure) {
    worker->Kill();  // reaps the child
    std::string reason = std::strerror(failure.err);
    if (failure.stage == kStageChdir) {
      reason = "cannot change directory to '" + o.cwd + "': " + reason;
    } else if (failure.stage == kStageSetup) {
      reason = "cannot set up its descriptors: " + reason;
    }
    return Error(failure.err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                 fail + ": " + reason);
  }

  worker->to_worker_ = to_w.Release();
  worker->from_worker_ = from_r.Release();
  LOTE_TRY(SetNonBlocking(worker->to_worker_));
  LOTE_TRY(SetNonBlocking(worker->from_worker_));
  return worker;
}

WorkerProcess::~WorkerProcess() {
  Kill();
  if (to_worker_ >= 0) close(to_worker_);
  if (from_worker_ >= 0) close(from_worker_);
  if (pidfd_ >= 0) close(pidfd_);
}

Status WorkerProcess::Send(const nlohmann::json& msg, std::string_view payload, int timeout_ms) {
  if (to_worker_ < 0) return IoError("worker closed the protocol pipe");
  return WriteFrame(to_worker_, msg, payload, timeout_ms);
}

Result<Frame> WorkerProcess::Receive(int timeout_ms) {
  Deadline deadline = Deadline::AfterMs(timeout_ms);
  for (;;) {
    pollfd fds[2] = {{from_worker_, POLLIN, 0}, {pidfd_, POLLIN, 0}};
    int n = poll(fds, pidfd_ >= 0 ? 2 : 1, deadline.RemainingMs());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError(std::string("poll: ") + std::strerror(errno));
    }
    if (n == 0) return Error(ErrorCode::kUnavailable, "timed out");
    // Data first: a worker may write its last frame and exit at once.
    if (fds[0].revents != 0) return ReadFrame(from_worker_, deadline.RemainingMs());
    if (fds[1].revents != 0) {
      // The worker is gone, yet something it started holds the pipe open.
      return IoError("worker closed the protocol pipe");
    }
  }
}

void WorkerProcess::CloseInput() {
  if (to_worker_ >= 0) close(to_worker_);
  to_worker_ = -1;
}

bool WorkerProcess::TryReap() {
  if (reaped_) return true;
  // Look without reaping: while the worker is a zombie its pid (= the group
  // id) cannot be reused, so signalling the group cannot hit a stranger.
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return false;
  }
  if (info.si_pid == 0) return false;  // still running
  kill(-pid_, SIGKILL);                // whatever the worker left behind in its group
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  wait_status_ = status;
  reaped_ = true;
  return true;
}

void WorkerProcess::Kill() {
  if (reaped_ || pid_ <= 0) return;
  kill(-pid_, SIGKILL);
  int status = 0;
  pid_t r;
  while ((r = waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  wait_status_ = r == pid_ ? status : 0;
  reaped_ = true;
}

bool WorkerProcess::Wait(int timeout_ms) {
  Deadline deadline = Deadline::AfterMs(timeout_ms);
  for (;;) {
    if (TryReap()) return true;
    if (deadline.expired()) return false;
    if (pidfd_ >= 0) {
      pollfd p{pidfd_, POLLIN, 0};
      if (poll(&p, 1, deadline.RemainingMs()) < 0 && errno != EINTR) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    } else {
      int left = deadline.RemainingMs();
      std::this_thread::sleep_for(std::chrono::milliseconds(left < 0 ? 10 : std::min(left, 10)));
    }
  }
}

void WorkerProcess::WaitOrKill(int grace_ms) {
  if (!Wait(grace_ms)) Kill();
}

std::string WorkerProcess::ExitDescription() const {
  return reaped_ ? DescribeWaitStatus(wait_status_) : "is running";
}

}  // namespace lote::runtime
