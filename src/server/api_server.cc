#include "server/api_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "common/home.h"
#include "common/util.h"
#include "registry/registry.h"
#include "server/auth.h"
#include "server/http_util.h"
#include "server/server_context.h"
#include "compute/agent_launcher.h"
#include "jobs/job_manager.h"
#include "store/sqlite_store.h"

namespace lote::server {

namespace fs = std::filesystem;

namespace {

// HTTP worker threads. An open keep-alive connection holds one, so this bounds
// the agents' worker slots plus watching clients served at once.
constexpr size_t kHttpThreads = 64;

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

bool IsUploadRoute(const std::string& path) {
  return path.starts_with("/api/v1/uploads/") || path.find("/files/") != std::string::npos ||
         (path.starts_with("/api/v1/jobs/") && path.ends_with("/tasks/results"));
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

    // Socket options apply when the listening socket is made, so before the bind.
    // Answers are written as headers then body: without TCP_NODELAY the body
    // waits for the client's delayed ACK (~40 ms per request).
    http_.set_tcp_nodelay(true);
    // Agents and CLI clients keep their connection; each one holds a pool
    // thread while open, so the pool is larger than httplib's default of 8.
    http_.set_keep_alive_max_count(10000);
    http_.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
    int port = options.port;
    if (port == 0) {
      port = http_.bind_to_any_port(options.host);
      if (port < 0) return IoError("cannot bind " + options.host + " to a free port");
    } else if (!http_.bind_to_port(options.host, port)) {
      return IoError("cannot bind " + options.host + ":" + std::to_string(port) +
                     " (in use? pick another with --port)");
    }
    std::string host = options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
    if (options.host == "0.0.0.0") host = "127.0.0.1";
    url_ = "http://" + host + ":" + std::to_string(port);

    LOTE_ASSIGN_OR_RETURN(registry_, registry::Registry::Create({.store = store_.get(),
                                                                 .home = home_,
                                                                 .base_url = url_,
                                                                 .url_policy = options.url_policy}));
    ctx_.registry = registry_.get();
    launcher_ = compute::MakeLocalLauncher(options.lote_binary);
    jobs::JobManagerOptions jo;
    jo.store = store_.get();
    jo.registry = registry_.get();
    jo.launcher = launcher_.get();
    jo.home = home_;
    jo.base_url = url_;
    jo.agent_token = [this](const std::string& job) {
      // Agents outlive no job: a week covers the longest one we expect.
      return signer_->Issue(
          {.endpoint = "", .expires_at = NowUnixSeconds() + 7 * 24 * 3600, .job = job, .endpoint_uid = ""});
    };
    jo.python_runner = options.python_runner;
    jo.default_python = options.default_python;
    jo.url_policy = options.url_policy;
    LOTE_ASSIGN_OR_RETURN(jobs_, jobs::JobManager::Create(jo));
    ctx_.jobs = jobs_.get();
    ConfigureHttp(options);
    nlohmann::json info = {{"url", url_}, {"pid", static_cast<int>(::getpid())}};
    LOTE_TRY(WriteFileAtomic(home_.server_info(), info.dump() + "\n", 0600));
    return {};
  }

  std::string url() const override { return url_; }

  Status Run() override {
    jobs_->Start();
    bool ok = http_.listen_after_bind();
    jobs_->Stop();
    std::error_code ec;
    fs::remove(home_.server_info(), ec);
    if (!ok && !stopping_) return IoError("HTTP server stopped unexpectedly");
    return {};
  }

  void Stop() override {
    stopping_ = true;
    http_.stop();
  }

 private:
  void ConfigureHttp(const ServerOptions& options) {
    http_.set_payload_max_length(options.max_upload_bytes);
    http_.set_read_timeout(5, 0);  // per read: a stalled client is dropped, a slow one is not
    http_.set_write_timeout(30, 0);
    // Authentication and size limits run before the body is read.
    http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (req.path == "/api/v1/health") return httplib::Server::HandlerResponse::Unhandled;
      auto who = Authenticate(req.get_header_value("Authorization"), ctx_.admin_token, *signer_,
                              NowUnixSeconds(), [this](const std::string& endpoint) {
                                return registry_->EndpointUid(endpoint);
                              });
      if (!who) {
        res.set_header("WWW-Authenticate", "Bearer");
        SendError(res, who.error());
        return httplib::Server::HandlerResponse::Handled;
      }
      if (auto st = Authorize(*who, req.method, req.path); !st) {
        SendError(res, st.error());
        return httplib::Server::HandlerResponse::Handled;
      }
      bool has_body = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
      if (has_body && !req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")) {
        SendError(res, Error(ErrorCode::kInvalidArgument,
                             "a " + req.method + " needs a Content-Length header (send an empty body as "
                             "Content-Length: 0)"));
        res.status = 411;
        res.set_header("Connection", "close");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (!IsUploadRoute(req.path)) {
        uint64_t len = std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10);
        if (len > kMaxJsonBodyBytes || req.get_header_value("Transfer-Encoding") == "chunked") {
          SendError(res, Error(ErrorCode::kPayloadTooLarge,
                               "request body is over the 1 MiB limit (or not sized)"));
          res.set_header("Connection", "close");
          return httplib::Server::HandlerResponse::Handled;
        }
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http_.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                   std::exception_ptr ep) {
      std::string what = "unknown exception";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      SendError(res, Internal("unexpected error: " + what));
    });
    http_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      if (res.status == 404) {
        SendError(res, NotFound("no route for " + req.method + " " + req.path));
      } else if (res.status == 413) {
        SendError(res, Error(ErrorCode::kPayloadTooLarge, "request body is over the limit"));
      } else if (res.status == 400) {
        SendError(res, InvalidArgument("bad request"));
      }
    });
    http_.Get("/api/v1/health", [](const httplib::Request&, httplib::Response& res) {
      SendJson(res, 200, {{"status", "ok"}});
    });
    RegisterComputeRoutes(http_, ctx_);
    RegisterModelRoutes(http_, ctx_);
    RegisterDatastoreRoutes(http_, ctx_);
    RegisterDataRoutes(http_, ctx_);
    RegisterEndpointRoutes(http_, ctx_);
    RegisterUploadRoutes(http_, ctx_);
    RegisterJobRoutes(http_, ctx_);
  }

  HomeLayout home_;
  std::optional<HomeLock> home_lock_;  // first made, last released
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<TokenSigner> signer_;
  std::unique_ptr<compute::AgentLauncher> launcher_;
  std::unique_ptr<jobs::JobManager> jobs_;
  ServerContext ctx_;
  httplib::Server http_;
  std::string url_;
  std::atomic<bool> stopping_{false};
};

}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::Create(const ServerOptions& options) {
  auto server = std::make_unique<ApiServerImpl>();
  LOTE_TRY(server->Init(options));
  return std::unique_ptr<ApiServer>(std::move(server));
}

}  // namespace lote::server
