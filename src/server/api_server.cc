#include "server/api_server.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <optional>

#include "common/home.h"
#include "common/lote_metrics.h"
#include "common/server_log.h"
#include "common/util.h"
#include "registry/registry.h"
#include "http/server.h"
#include "server/auth.h"
#include "server/http_util.h"
#include "server/server_context.h"
#include "server/sessions.h"
#include "compute/agent_launcher.h"
#include "jobs/job_manager.h"
#include "store/sqlite_store.h"

namespace lote::server {

namespace fs = std::filesystem;

namespace {

// Reads a secret file, creating it (mode 0600) with a fresh random value first.
Result<std::string> LoadOrCreateSecret(const fs::path& path) {
  std::error_code ec;
  if (fs::exists(path, ec)) {
    LOTE_ASSIGN_OR_RETURN(std::string s, ReadFile(path));
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (s.size() < 32) return Internal("secret file '" + path.string() + "' is too short");
    return s;
  }
  std::string secret = RandomHex(32);
  LOTE_TRY(WriteFileAtomic(path, secret + "\n", 0600));
  return secret;
}

// A slurm compute is checked with Slurm itself before it is stored.
Status CheckCompute(const nlohmann::json& compute) {
  LOTE_ASSIGN_OR_RETURN(compute::ComputeTarget target, compute::ParseComputeTarget(compute));
  if (target.type != "slurm") return {};
  return compute::CheckSlurmSettings(target.slurm);
}

// Each client connection is a descriptor, and a soft limit of 1024 (the
// usual default) would cap the server far below the thousands of
// connections it is built to hold: take what the hard limit allows.
void RaiseDescriptorLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rlim_t want = std::min<rlim_t>(rl.rlim_max, 65536);
  if (want <= rl.rlim_cur) return;
  rl.rlim_cur = want;
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) {
    std::cerr << "lote serve: warning: cannot raise the open-file limit to " << want << ": "
              << std::strerror(errno) << "\n";
  }
}

class ApiServerImpl final : public ApiServer {
 public:
  Status Init(const ServerOptions& options) {
    home_.root = options.home;
    std::error_code ec;
    fs::create_directories(home_.root, ec);
    if (ec) return IoError("cannot create home '" + home_.root.string() + "': " + ec.message());
    ::chmod(home_.root.c_str(), 0700);
    // One server per home, before anything in it is opened (common/home.h).
    LOTE_ASSIGN_OR_RETURN(home_lock_, HomeLock::Acquire(home_));
    // The store first: a new home's secrets are made after it, so a
    // crash in between never leaves secrets next to an empty store.
    LOTE_TRY(CheckMetadataStoreBelongs(home_));
    LOTE_ASSIGN_OR_RETURN(store_, store::OpenSqliteStore({.path = home_.metadata_db()}));
    LOTE_ASSIGN_OR_RETURN(ctx_.admin_token, LoadOrCreateSecret(home_.admin_token()));
    LOTE_ASSIGN_OR_RETURN(std::string key, LoadOrCreateSecret(home_.signing_key()));
    signer_ = std::make_unique<TokenSigner>(key);
    ctx_.signer = signer_.get();
    ctx_.endpoint_token_ttl_s = options.endpoint_token_ttl_s;

    LOTE_ASSIGN_OR_RETURN(log_, ServerLog::Create(options.log_level, options.log_file));
    metrics_ = std::make_unique<LoteMetrics>(metrics_registry_);
    ctx_.metrics = metrics_.get();
    RaiseDescriptorLimit();
    // Binding now makes a taken port an error of `lote serve` itself;
    // requests wait in the backlog until Run() starts serving.
    LOTE_ASSIGN_OR_RETURN(http_, http::HttpServer::Create(HttpOptions(options)));
    int port = http_->port();
    std::string host = options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
    if (options.host == "0.0.0.0") host = "127.0.0.1";
    url_ = "http://" + host + ":" + std::to_string(port);
    sessions_ = std::make_unique<SessionStore>(SessionOptions{});
    ctx_.sessions = sessions_.get();
    ctx_.session_cookie = "lote_session_" + std::to_string(port);

    const std::string public_url = options.advertise_url.empty() ? url_ : options.advertise_url;
    ctx_.public_url = public_url;
    LOTE_ASSIGN_OR_RETURN(registry_, registry::Registry::Create({.store = store_.get(),
                                                                 .home = home_,
                                                                 .base_url = public_url,
                                                                 .url_policy = options.url_policy,
                                                                 .check_compute = CheckCompute}));
    ctx_.registry = registry_.get();
    auto launchers = std::make_unique<compute::LauncherRegistry>();
    launchers->Add("local", compute::MakeLocalLauncher(
                                options.local_agent_executable.empty() ? options.lote_binary
                                                                       : options.local_agent_executable));
    launchers->Add("slurm", compute::MakeSlurmLauncher(options.lote_binary));
    launcher_ = std::move(launchers);
    jobs::JobManagerOptions jo;
    jo.store = store_.get();
    jo.registry = registry_.get();
    jo.launcher = launcher_.get();
    jo.home = home_;
    jo.base_url = public_url;
    jo.agent_token = [this](const std::string& job) {
      // Agents outlive no job: a week covers the longest one we expect.
      return signer_->Issue(
          {.endpoint = "", .expires_at = NowUnixSeconds() + 7 * 24 * 3600, .job = job, .endpoint_uid = "", .scope = ""});
    };
    jo.python_runner = options.python_runner;
    jo.default_python = options.default_python;
    jo.url_policy = options.url_policy;
    jo.metrics = metrics_.get();
    jo.log = log_.get();
    jo.retain_jobs_ms = options.retain_jobs_ms;
    LOTE_ASSIGN_OR_RETURN(jobs_, jobs::JobManager::Create(jo));
    ctx_.jobs = jobs_.get();
    RegisterGauges();
    RegisterRoutes();
    nlohmann::json info = {{"url", url_}, {"pid", static_cast<int>(::getpid())}};
    LOTE_TRY(WriteFileAtomic(home_.server_info(), info.dump() + "\n", 0600));
    return {};
  }

  std::string url() const override { return url_; }

  Status Run() override {
    jobs_->Start();
    Status served = http_->Start();
    if (served) {
      std::unique_lock lock(stop_mu_);
      stop_cv_.wait(lock, [this] { return stop_requested_; });
    }
    http_->Stop();  // waits for running handlers, closes every connection
    jobs_->Stop();
    std::error_code ec;
    fs::remove(home_.server_info(), ec);
    return served;
  }

  void Stop() override {
    {
      std::lock_guard lock(stop_mu_);
      stop_requested_ = true;
    }
    stop_cv_.notify_all();
  }

 private:
  http::HttpServerOptions HttpOptions(const ServerOptions& options) {
    http::HttpServerOptions o;
    o.host = options.host;
    o.port = options.port;
    o.router = &router_;
    o.max_upload_bytes = options.max_upload_bytes;
    o.render_error = [](const Error& e, http::Response& res) { SendError(res, e); };
    o.log = [this](std::string_view line) { log_->Warn("http", line); };
    o.on_answer = [this](const http::Request& req, const http::Route* route, int status, double seconds) {
      metrics_->HttpRequest(status, seconds);
      if (log_->Enabled(LogLevel::kInfo)) log_->Info("http", AccessLine(req, route, status, seconds));
    };
    // Authentication decides from the headers alone, before any body byte is
    // read; only the health check is open. The gate runs on the server's I/O
    // thread: it must stay CPU-only (HMAC, comparisons), never a store lookup.
    o.gate = [this](const http::Request& req) -> std::optional<http::Response> {
      // The dashboard's pages and assets are static: without a session
      // the page itself says how to log in (docs/dashboard.md).
      if (req.path == "/api/v1/health" || IsPublicDashboardPath(req.path)) return std::nullopt;
      // An endpoint token's identity (its endpoint not deleted or replaced)
      // needs the store: the invoke route checks it (CheckInvoker).
      auto who = Identify(ctx_, req);
      http::Response res;
      if (!who) {
        if (who.error().code() == ErrorCode::kUnauthenticated) res.SetHeader("WWW-Authenticate", "Bearer");
        SendError(res, who.error());
        return res;
      }
      if (auto st = Authorize(*who, req.method, req.path); !st) {
        SendError(res, st.error());
        return res;
      }
      return std::nullopt;
    };
    return o;
  }

  void RegisterRoutes() {
    router_.Get("/api/v1/health", [](const http::Request&, http::Response& res) {
      SendJson(res, 200, {{"status", "ok"}});
    });
    RegisterComputeRoutes(router_, ctx_);
    RegisterModelRoutes(router_, ctx_);
    RegisterDatastoreRoutes(router_, ctx_);
    RegisterDataRoutes(router_, ctx_);
    RegisterEndpointRoutes(router_, ctx_);
    RegisterUploadRoutes(router_, ctx_);
    RegisterJobRoutes(router_, ctx_);
    RegisterRemoteAgentRoutes(router_, ctx_);
    RegisterObservabilityRoutes(router_, ctx_);
    RegisterDashboardRoutes(router_, ctx_);
  }

  // One access-log line: method, route (its pattern: no names, no query),
  // status, duration and the kind of token. Never the token itself.
  std::string AccessLine(const http::Request& req, const http::Route* route, int status, double seconds) const {
    std::string kind = "none";
    if (!req.HeaderValue("Authorization").empty() || !CookieValue(req.HeaderValue("Cookie"), ctx_.session_cookie).empty()) {
      auto who = Identify(ctx_, req);
      kind = !who                 ? "invalid"
             : who->session       ? "session"
             : who->admin         ? "admin"
             : who->read_only     ? "read"
             : !who->job.empty()  ? "agent"
                                  : "endpoint";
    }
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.1f", seconds * 1000);
    // A request refused before routing (or matching none) shows its path,
    // cut short and with control bytes replaced: a log line stays one line.
    std::string where = route != nullptr ? route->pattern : req.path.substr(0, 256);
    for (char& c : where) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    std::string method = req.method.substr(0, 16);
    for (char& c : method) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) c = '?';
    }
    return method + " " + where + " " + std::to_string(status) + " " + ms + "ms token=" + kind;
  }

  // Gauges are read when /metrics is scraped.
  void RegisterGauges() {
    metrics_registry_.Gauge("lote_jobs", "Jobs by status", [this] {
      std::vector<std::pair<Labels, double>> out;
      auto counts = jobs_->JobsByStatus();
      if (!counts) {
        std::cerr << "lote serve: /metrics: cannot count jobs: " << counts.error().message() << std::endl;
        return out;
      }
      for (const auto& [status, n] : *counts) out.push_back({{{"status", status}}, static_cast<double>(n)});
      return out;
    });
    metrics_registry_.Gauge("lote_agents", "Live agents by compute type", [this] {
      std::map<std::string, int64_t> counts = {{"local", 0}, {"slurm", 0}};
      for (const auto& [type, n] : jobs_->AgentsByComputeType()) counts[type] += n;
      std::vector<std::pair<Labels, double>> out;
      for (const auto& [type, n] : counts) out.push_back({{{"compute_type", type}}, static_cast<double>(n)});
      return out;
    });
  }

  HomeLayout home_;
  std::optional<HomeLock> home_lock_;  // first made, last released
  std::unique_ptr<ServerLog> log_;  // before everything that logs
  MetricsRegistry metrics_registry_;
  std::unique_ptr<LoteMetrics> metrics_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<TokenSigner> signer_;
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<compute::AgentLauncher> launcher_;
  std::unique_ptr<jobs::JobManager> jobs_;
  ServerContext ctx_;
  http::Router router_;
  std::unique_ptr<http::HttpServer> http_;
  std::string url_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_requested_ = false;
};

}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::Create(const ServerOptions& options) {
  auto server = std::make_unique<ApiServerImpl>();
  LOTE_TRY(server->Init(options));
  return std::unique_ptr<ApiServer>(std::move(server));
}

}  // namespace lote::server
