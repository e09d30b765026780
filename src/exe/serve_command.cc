#include "exe/serve_command.h"

#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <thread>
#include <vector>

#include "common/home.h"
#include "storage/url_policy.h"
#include "server/api_server.h"

namespace lote {

namespace {

struct ServeArgs {
  std::string home, host = "127.0.0.1";
  int port = 8070;
  std::string advertise_url;
  std::vector<std::string> allow_url_hosts, deny_url_hosts;
  std::string log_level = "info", log_file;
  double retain_jobs_days = 0;
};

int Serve(const ServeArgs& a) {
  // Block the stop signals in every thread; one thread waits for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  server::ServerOptions o;
  auto policy = storage::UrlPolicy::Make(a.allow_url_hosts, a.deny_url_hosts);
  if (!policy) {
    std::cerr << "lote serve: error: " << policy.error().field() << ": " << policy.error().message() << "\n";
    return cli::ExitCodeFor(policy.error().code());
  }
  o.url_policy = *policy;
  o.home = a.home.empty() ? DefaultHomeDir() : std::filesystem::path(a.home);
  o.host = a.host;
  o.port = a.port;
  o.advertise_url = a.advertise_url;
  o.log_level = a.log_level;
  o.log_file = a.log_file;
  o.retain_jobs_ms = static_cast<int64_t>(a.retain_jobs_days * 86400.0 * 1000.0);
  std::error_code ec;
  o.lote_binary = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  // What local agents are started as: a wrapper that runs `lote agent …` in
  // a sandbox, a namespace or under a profiler gets the agent's arguments
  // (docs/agent-api.md, "Lifetime"). The tests run remote agents so, in a
  // mount namespace that hides the server's home.
  const char* agent_exe = std::getenv("LOTE_AGENT_EXECUTABLE");
  if (agent_exe && *agent_exe) o.local_agent_executable = agent_exe;
  const char* python = std::getenv("LOTE_PYTHON");
  if (python && *python) o.default_python = python;
  const char* runner = std::getenv("LOTE_PYTHON_RUNNER");
  o.python_runner = runner && *runner ? runner : std::string(LOTE_PYTHON_DIR) + "/lote_runner.py";
  auto srv = server::ApiServer::Create(o);
  if (!srv) {
    std::cerr << "lote serve: error: " << srv.error().message() << "\n";
    return cli::ExitCodeFor(srv.error().code());
  }
  if (a.host != "127.0.0.1" && a.host != "localhost" && a.host != "::1") {
    std::cerr << "lote serve: warning: listening on " << a.host
              << ", reachable from other machines; every call still needs a token\n";
  }
  std::cout << "lote serve: listening on " << (*srv)->url() << " (home " << o.home.string() << ")"
            << std::endl;
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop, &sig);
    (*srv)->Stop();
  });
  auto st = (*srv)->Run();
  // Wake the waiter if Run() ended on its own.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  if (!st) {
    std::cerr << "lote serve: error: " << st.error().message() << "\n";
    return 1;
  }
  std::cout << "lote serve: stopped" << std::endl;
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, cli::CommandContext& ctx) {
  auto args = std::make_shared<ServeArgs>();
  auto* serve = app.add_subcommand("serve", "Run the control plane (REST API, metadata store)");
  serve->add_option("--home", args->home, "Home directory (default $LOTE_HOME or ~/.lote)");
  serve->add_option("--host", args->host, "Address to bind (default 127.0.0.1)");
  serve->add_option("--port", args->port, "Port (0 picks a free one)")->check(CLI::Range(0, 65535));
  serve->add_option("--advertise-url", args->advertise_url,
                    "The URL agents on other nodes reach this server at (http://head:8070); default: the listening "
                    "address")
      ->check([](const std::string& v) -> std::string {
        const bool scheme = v.starts_with("http://") || v.starts_with("https://");
        const size_t host_at = v.find("//") + 2;
        if (!scheme || v.size() <= host_at || v.size() > 2048 ||
            v.find_first_of(" \t\r\n?#@", host_at) != std::string::npos ||
            v.find('/', host_at) != std::string::npos) {
          return "expected http://host[:port] (no path, query or user)";
        }
        return "";
      });
  serve->add_option("--allow-url-host", args->allow_url_hosts,
                    "Only fetch URL inputs from this host (repeatable): name, *.domain, *, address or CIDR");
  serve->add_option("--deny-url-host", args->deny_url_hosts,
                    "Never fetch URL inputs from this host (repeatable; wins over --allow-url-host)");
  serve->add_option("--log-level", args->log_level,
                    "The server log's level: debug, info (default: also one line per request), warning, error")
      ->check(CLI::IsMember({"debug", "info", "warning", "warn", "error"}));
  serve->add_option("--log-file", args->log_file, "Append the server log to this file (default: stderr)");
  serve->add_option("--retain-jobs-days", args->retain_jobs_days,
                    "Delete ended jobs (their records, logs and files; never their output) this many days "
                    "after they ended; fractions allowed (0.5 = 12 hours). Default: keep forever")
      ->check(CLI::PositiveNumber);
  serve->callback([args, &ctx] { ctx.exit_code = Serve(*args); });
}

}  // namespace lote
