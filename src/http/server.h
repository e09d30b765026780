// lote's HTTP/1.1 server, on libmicrohttpd.
//
// One I/O thread (epoll) reads and writes every connection; no thread is
// held per connection, so slow or idle clients cost a socket and a small
// buffer, never a handler. For each request:
//   1. the request line and headers are read, bounded (max_header_bytes:
//      414 or 431 and close) and within header_timeout_s of the request's
//      first byte, whatever the client's pace;
//   2. the gate (authentication) and the router decide from the headers
//      alone. A refusal of a request that announced a body is answered at
//      once and the connection closed, so no unread body byte is ever parsed
//      as a request; a refusal of a bodiless request keeps the connection;
//   3. a buffered route's body (at most max_json_body_bytes, sized by
//      Content-Length) is collected on the I/O thread, then the connection is
//      suspended and its handler runs on the handler pool; a streamed route's
//      sink is opened, written and finished on the pool, in pieces;
//   4. the answer is sent when the handler is done; pipelined requests are
//      answered in order.
// An exception that escapes a handler, opener or sink becomes a 500 with the
// exception's message, and is logged; none reaches the I/O thread.
// Idle keep-alive connections and stalled bodies or readers are closed after
// idle_timeout_s without traffic.
//
// Thread safety: Start() and Stop() from one thread; Stop() waits for running
// handlers, then closes every connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http/json_body.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"

namespace lote::http {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 picks a free port
  const Router* router = nullptr;  // not owned; complete before Start()
  // Runs on the I/O thread with the request line and headers, before
  // routing; a Response refuses the request. Must not block (no I/O).
  std::function<std::optional<Response>(const Request&)> gate;
  // How an error the server itself produces (no route, 411, 413, 500, 503)
  // is written; the default is a text/plain line.
  std::function<void(const Error&, Response&)> render_error;
  std::function<void(std::string_view)> log;  // default: stderr
  // Called on the I/O thread as each answer is queued, with its request (the
  // route is null when none matched), status and seconds since the request's
  // headers were complete. Must be cheap and must not block.
  std::function<void(const Request&, const Route*, int status, double seconds)> on_answer;

  size_t handler_threads = 32;
  size_t max_connections = 4000;
  int listen_backlog = 511;
  size_t max_header_bytes = 32 << 10;  // request line + headers
  size_t max_json_body_bytes = kMaxJsonBodyBytes;
  uint64_t max_upload_bytes = 8ull << 30;
  int header_timeout_s = 10;
  int idle_timeout_s = 30;
};

class HttpServer {
 public:
  // Binds and listens (IoError naming host:port when the port is taken); no
  // request is served before Start().
  static Result<std::unique_ptr<HttpServer>> Create(HttpServerOptions options);
  virtual ~HttpServer() = default;

  virtual int port() const = 0;
  virtual Status Start() = 0;
  // Stops accepting, answers 503 to new requests, waits for running
  // handlers, then closes every connection. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace lote::http
