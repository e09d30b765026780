// `lote serve`: the control plane's HTTP server.
//
// Create() prepares the home directory (metadata store, admin token, signing
// key, default datastore) and binds the port; Run() serves until Stop() is
// called from another thread (the serve command calls it on SIGTERM/SIGINT).
// Every route except GET /api/v1/health needs `Authorization: Bearer <token>`.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/status.h"
#include "storage/url_policy.h"

namespace lote::server {

struct ServerOptions {
  std::filesystem::path home;
  std::string host = "127.0.0.1";
  int port = 8070;  // 0 picks a free port
  uint64_t max_upload_bytes = 8ull << 30;
  int endpoint_token_ttl_s = 24 * 3600;
  std::string python_runner;  // python/lote_runner.py
  std::string default_python = "python3";  // no-code Python models without an environment
  std::string lote_binary;    // what agents run (normally this binary)
  // What the local launcher starts instead of lote_binary (a wrapper that
  // execs `lote agent "$@"`, LOTE_AGENT_EXECUTABLE); empty: lote_binary.
  std::string local_agent_executable;
  // The URL agents and scoring_uri use ("http://head:8070"); empty: the URL
  // the server listens on. Needed when agents run on other nodes.
  std::string advertise_url;
  storage::UrlPolicy url_policy;  // hosts URL inputs may name
  std::string log_level = "info";  // the server log (common/server_log.h)
  std::string log_file;            // "": stderr
  int64_t retain_jobs_ms = 0;      // ended jobs deleted after this long; 0: kept
};

class ApiServer {
 public:
  static Result<std::unique_ptr<ApiServer>> Create(const ServerOptions& options);
  virtual ~ApiServer() = default;
  virtual std::string url() const = 0;  // "http://127.0.0.1:8070"
  virtual Status Run() = 0;             // blocks until Stop()
  virtual void Stop() = 0;              // thread-safe
};

}  // namespace lote::server
