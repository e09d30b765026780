#include "compute/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "common/executable.h"
#include "common/unique_fd.h"

extern char** environ;

namespace lote::compute {

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> Environment(const std::vector<std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  for (const std::string& kv : extra) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  std::vector<std::string> out;
  out.reserve(env.size());
  for (auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

// Reads what is there without blocking; false at end of file.
bool Drain(int fd, std::string& into, size_t max) {
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      size_t keep = std::min(static_cast<size_t>(n), max - std::min(max, into.size()));
      into.append(buf, keep);
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

}  // namespace

std::string CommandResult::Message() const {
  const std::string& text = err.find_first_not_of(" \t\r\n") != std::string::npos ? err : out;
  std::string m;
  size_t start = 0;
  while (start < text.size() && m.size() < 2048) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (!line.empty()) m += (m.empty() ? "" : "; ") + line;
    start = end + 1;
  }
  if (m.size() > 2048) m.resize(2048);
  if (m.empty()) {
    m = signal ? "killed by signal " + std::to_string(signal) : "exited with code " + std::to_string(exit_code);
  }
  return m;
}

Result<CommandResult> RunCommand(const std::vector<std::string>& argv, const CommandOptions& options) {
  if (argv.empty()) return InvalidArgument("no command to run");
  std::vector<std::string> env = Environment(options.env);
  std::string path_var = "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& kv : env) {
    if (kv.starts_with("PATH=")) path_var = kv.substr(5);
  }
  auto exe = FindExecutable(argv[0], path_var);
  if (!exe) return NotFound("'" + argv[0] + "' is not on PATH (" + exe.error().message() + ")");

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return IoError(std::string("pipe: ") + std::strerror(errno));
  UniqueFd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return IoError(std::string("pipe: ") + std::strerror(errno));
  UniqueFd err_r(err_pipe[0]), err_w(err_pipe[1]);

  std::vector<char*> args, envp;
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) return IoError("cannot run '" + argv[0] + "': fork: " + std::strerror(errno));
  if (pid == 0) {
    // Only async-signal-safe calls from here to execve.
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(out_w.get(), 1);
    ::dup2(err_w.get(), 2);
    if (::syscall(SYS_close_range, 3u, ~0u, 0u) != 0) {
      for (int fd = 3; fd < 65536; ++fd) ::close(fd);
    }
    ::execve(exe->c_str(), args.data(), envp.data());
    _exit(127);
  }
  ::setpgid(pid, pid);
  out_w.Reset();
  err_w.Reset();
  ::fcntl(out_r.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(err_r.get(), F_SETFL, O_NONBLOCK);

  CommandResult r;
  const auto deadline = Clock::now() + options.timeout;
  bool out_open = true, err_open = true, timed_out = false;
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_open ? out_r.get() : -1, POLLIN, 0}, {err_open ? err_r.get() : -1, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (n < 0 && errno != EINTR) break;
    if (out_open && fds[0].revents) out_open = Drain(out_r.get(), r.out, options.max_output);
    if (err_open && fds[1].revents) err_open = Drain(err_r.get(), r.err, options.max_output);
  }
  if (timed_out) ::kill(-pid, SIGKILL);
  int status = 0;
  for (;;) {
    // The pipes are closed: it has exited or is about to; a grandchild that
    // kept them open past the deadline is killed above.
    pid_t w = ::waitpid(pid, &status, timed_out ? 0 : WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) return Internal("waitpid for '" + argv[0] + "': " + std::strerror(errno));
    if (w == 0) {
      if (Clock::now() >= deadline) {
        ::kill(-pid, SIGKILL);
        timed_out = true;
      } else {
        ::usleep(2000);
      }
    }
  }
  if (timed_out) {
    char within[32];
    std::snprintf(within, sizeof within, "%.1f s", static_cast<double>(options.timeout.count()) / 1000.0);
    return Error(ErrorCode::kUnavailable, "'" + argv[0] + "' did not finish within " + within);
  }
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  return r;
}

}  // namespace lote::compute
