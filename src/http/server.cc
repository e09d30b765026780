#include "http/server.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <utility>

#include "common/thread_pool.h"
#include "http/header_deadline.h"
#include "http/listen_socket.h"
#include "http/file_response.h"
#include "http/mhd_response.h"
#include "http/url.h"

namespace lote::http {

namespace {


// Upload bytes collected on the I/O thread before the pool writes them:
// large enough that the suspend/resume per write costs little (a 256 MiB
// PUT runs as fast as on httplib's server), small enough per upload.
constexpr size_t kSinkFlushBytes = 512 << 10;

// One request and its answer.
struct Exchange {
  enum class Stage {
    kNew,      // the first call (headers complete) has not happened
    kOpened,   // a streamed route's sink is open; the body may come
    kBody,     // collecting (buffered) or writing (streamed) the body
    kDiscard,  // the sink failed: the rest of the body is read and dropped
    kRunning,  // the connection is suspended while the pool works on it
    kAnswer,   // `res` is ready to be queued
  };
  Request req;
  const Route* route = nullptr;
  Stage stage = Stage::kNew;
  bool has_body = false;
  uint64_t body_bytes = 0;
  std::unique_ptr<BodySink> sink;
  std::string pending;  // streamed bytes not yet handed to the sink
  std::optional<Error> failure;
  Response res;
  std::chrono::steady_clock::time_point started;  // the headers were complete
};

struct Connection {
  HeaderDeadline::Entry* deadline = nullptr;
  Exchange ex;  // the I/O thread's, or the pool's while suspended
};

std::optional<uint64_t> ParseLength(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::string DescribeException(std::exception_ptr ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

class ServerImpl final : public HttpServer {
 public:
  explicit ServerImpl(HttpServerOptions o)
      : options_(WithDefaults(std::move(o))),
        deadline_(std::chrono::seconds(options_.header_timeout_s), options_.log) {}

  ~ServerImpl() override { Stop(); }

  Status Bind() {
    LOTE_ASSIGN_OR_RETURN(listen_, Listen(options_.host, options_.port, options_.listen_backlog));
    return {};
  }

  int port() const override { return listen_.port; }

  // The configured limit, or less when the process may not open that many
  // descriptors: past the limit MHD stops accepting (clients wait in the
  // backlog) instead of failing accept() with EMFILE; the rest of the
  // process (store, agents' pipes, uploads) keeps a reserve.
  size_t ConnectionLimit() const {
    constexpr size_t kReserve = 256;
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return options_.max_connections;
    size_t allowed = rl.rlim_cur > 2 * kReserve ? static_cast<size_t>(rl.rlim_cur) - kReserve
                                                 : static_cast<size_t>(rl.rlim_cur) / 2;
    return std::min(options_.max_connections, allowed);
  }

  Status Start() override {
    LOTE_CHECK(options_.router != nullptr && daemon_ == nullptr);
    // A request that was accepted gets its answer: Stop() runs what is queued.
    pool_ = std::make_unique<ThreadPool>(options_.handler_threads, "http handlers", ThreadPool::OnClose::kRunQueued);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    daemon_ = MHD_start_daemon(
        flags, 0, nullptr, nullptr, &ServerImpl::OnRequestCb, this,
        MHD_OPTION_EXTERNAL_LOGGER, &ServerImpl::LogCb, this,  // first, to catch the others' messages
        MHD_OPTION_LISTEN_SOCKET, static_cast<MHD_socket>(listen_.fd.get()),
        MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(ConnectionLimit()),
        MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(options_.idle_timeout_s),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<size_t>(options_.max_header_bytes),
        MHD_OPTION_STRICT_FOR_CLIENT, 1,
        MHD_OPTION_URI_LOG_CALLBACK, &ServerImpl::OnRequestLineCb, this,
        MHD_OPTION_NOTIFY_COMPLETED, &ServerImpl::OnCompletedCb, this,
        MHD_OPTION_NOTIFY_CONNECTION, &ServerImpl::OnConnectionCb, this,
        MHD_OPTION_END);
    if (daemon_ == nullptr) {
      pool_.reset();
      return Internal("cannot start the HTTP server on port " + std::to_string(listen_.port) +
                      " (libmicrohttpd refused its options; see the log)");
    }
    deadline_.Start();
    return {};
  }

  void Stop() override {
    {
      std::unique_lock lock(flight_mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    if (daemon_ == nullptr) return;
    // No new connections; the listening socket is ours again (closed below).
    MHD_socket quiesced = MHD_quiesce_daemon(daemon_);
    {
      // MHD must not be stopped while a connection is suspended, and only
      // the pool suspends them: wait until it has resumed every one.
      std::unique_lock lock(flight_mu_);
      flight_cv_.wait(lock, [this] { return in_flight_ == 0; });
    }
    MHD_stop_daemon(daemon_);
    daemon_ = nullptr;
    if (quiesced == listen_.fd.get()) {
      listen_.fd = UniqueFd();  // handed back by the quiesce: ours to close
    } else {
      listen_.fd.Release();  // MHD_stop_daemon closed it
    }
    deadline_.Stop();
    pool_.reset();
  }

 private:
  // --- MHD callbacks (C ABI; nothing may throw through them) ------------------

  static MHD_Result OnRequestCb(void* cls, MHD_Connection* c, const char* /*url*/, const char* method,
                                const char* /*version*/, const char* upload, size_t* upload_size,
                                void** con_cls) {
    auto* self = static_cast<ServerImpl*>(cls);
    try {
      return self->OnRequest(c, method, upload, upload_size, con_cls);
    } catch (...) {
      self->options_.log("http: unexpected error on the I/O thread, connection closed: " +
                         DescribeException(std::current_exception()));
      return MHD_NO;
    }
  }

  static void* OnRequestLineCb(void* cls, const char* uri, MHD_Connection* c) {
    auto* self = static_cast<ServerImpl*>(cls);
    Connection* conn = ConnectionOf(c);
    if (conn == nullptr) return nullptr;
    try {
      conn->ex = Exchange();
      conn->ex.req.target = uri != nullptr ? uri : "";
    } catch (...) {  // out of memory: the request has no target and gets a 404
      self->options_.log("http: cannot record a request line: " + DescribeException(std::current_exception()));
    }
    self->deadline_.RequestLine(conn->deadline);
    return conn;
  }

  static void OnCompletedCb(void* cls, MHD_Connection* c, void** /*con_cls*/,
                            MHD_RequestTerminationCode /*why*/) {
    auto* self = static_cast<ServerImpl*>(cls);
    Connection* conn = ConnectionOf(c);
    if (conn == nullptr) return;
    self->deadline_.RequestDone(conn->deadline);
    // Drops the body and an unfinished sink (which removes its partial file).
    try {
      conn->ex = Exchange();
    } catch (...) {
      self->options_.log("http: cleaning up a request failed: " +
                         DescribeException(std::current_exception()));
    }
  }

  static void OnConnectionCb(void* cls, MHD_Connection* c, void** socket_context,
                             MHD_ConnectionNotificationCode code) {
    auto* self = static_cast<ServerImpl*>(cls);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
      int fd = info != nullptr ? info->connect_fd : -1;
      // An answer's last segment must not wait for the client's delayed ACK.
      int one = 1;
      if (fd >= 0) ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      try {
        auto conn = std::make_unique<Connection>();
        conn->deadline = self->deadline_.Add(fd);
        *socket_context = conn.release();
      } catch (...) {
        // Without its state the connection's first request finds no context
        // and MHD closes it.
        self->options_.log("http: cannot track a new connection: " +
                           DescribeException(std::current_exception()));
      }
    } else {
      // MHD notifies before it closes the socket, so the sweeper never
      // shuts down a descriptor that was closed and reused.
      auto* conn = static_cast<Connection*>(*socket_context);
      if (conn == nullptr) return;
      self->deadline_.Remove(conn->deadline);
      delete conn;
      *socket_context = nullptr;
    }
  }

  static void LogCb(void* cls, const char* fmt, va_list ap) {
    auto* self = static_cast<ServerImpl*>(cls);
    char buf[512];
    std::vsnprintf(buf, sizeof(buf), fmt, ap);
    std::string line = "http: ";
    line += buf;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    self->options_.log(line);
  }

  static Connection* ConnectionOf(MHD_Connection* c) {
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info != nullptr ? static_cast<Connection*>(info->socket_context) : nullptr;
  }

  // --- one request ------------------------------------------------------------

  MHD_Result OnRequest(MHD_Connection* c, const char* method, const char* upload, size_t* upload_size,
                       void** con_cls) {
    auto* conn = static_cast<Connection*>(*con_cls);
    if (conn == nullptr) {
      conn = ConnectionOf(c);
      if (conn == nullptr) return MHD_NO;
      *con_cls = conn;
    }
    Exchange& ex = conn->ex;
    switch (ex.stage) {
      case Exchange::Stage::kNew:
        return OnHeaders(c, *conn, method);
      case Exchange::Stage::kOpened:  // MHD repeats the first call after the resume
        ex.stage = Exchange::Stage::kBody;
        return *upload_size > 0 ? OnBodyPiece(c, *conn, upload, upload_size) : MHD_YES;
      case Exchange::Stage::kBody:
        if (*upload_size > 0) return OnBodyPiece(c, *conn, upload, upload_size);
        return OnBodyDone(c, *conn);
      case Exchange::Stage::kDiscard:
        if (*upload_size > 0) {
          ex.body_bytes += *upload_size;
          *upload_size = 0;
          return ex.body_bytes > options_.max_upload_bytes ? MHD_NO : MHD_YES;
        }
        return Answer(c, ex, ErrorResponse(*ex.failure));  // the whole body is in
      case Exchange::Stage::kRunning:
        // A chunked body may hand over more data before MHD notices the
        // suspension: leave it in MHD's buffer for after the resume.
        return MHD_YES;
      case Exchange::Stage::kAnswer:
        return Queue(c, ex.res, ex);
    }
    return MHD_NO;
  }

  // The first call: the request line and headers are complete.
  MHD_Result OnHeaders(MHD_Connection* c, Connection& conn, const char* method) {
    deadline_.HeadersDone(conn.deadline);
    Exchange& ex = conn.ex;
    ex.started = std::chrono::steady_clock::now();
    Request& req = ex.req;
    req.method = method != nullptr ? method : "";
    auto [path, query] = SplitTarget(req.target);
    req.path = std::string(path);
    req.query = ParseQuery(query);
    MHD_get_connection_values(
        c, MHD_HEADER_KIND,
        [](void* cls, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
          static_cast<Request*>(cls)->headers.push_back({key != nullptr ? key : "", value != nullptr ? value : ""});
          return MHD_YES;
        },
        &req);
    std::string_view length_header = req.HeaderValue("Content-Length");
    bool sized = req.HasHeader("Content-Length");
    bool chunked = req.HasHeader("Transfer-Encoding");
    std::optional<uint64_t> length = sized ? ParseLength(length_header) : std::optional<uint64_t>(0);
    if (!length) return Refuse(c, ex, ErrorResponse(InvalidArgument("malformed Content-Length")), true);
    ex.has_body = chunked || *length > 0;

    if (Stopping()) return Refuse(c, ex, ShuttingDown(), true);
    if (options_.gate) {
      if (auto refusal = options_.gate(req)) return Refuse(c, ex, std::move(*refusal), ex.has_body);
    }
    auto match = options_.router->Find(req.method, req.path);
    if (!match) return Refuse(c, ex, ErrorResponse(match.error()), ex.has_body);
    ex.route = match->route;
    req.params = std::move(match->params);

    bool wants_body = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    if (wants_body && !sized && !chunked) {
      Response res = ErrorResponse(InvalidArgument(
          "a " + req.method + " needs a Content-Length header (send an empty body as Content-Length: 0)"));
      res.status = 411;
      return Refuse(c, ex, std::move(res), true);
    }
    if (!ex.route->streamed()) {
      if (chunked || *length > options_.max_json_body_bytes) {
        return Refuse(c, ex,
                      ErrorResponse(Error(ErrorCode::kPayloadTooLarge,
                                          "request body is over the " + SizeText(options_.max_json_body_bytes) +
                                              " limit (or not sized)")),
                      true);
      }
      ex.stage = Exchange::Stage::kBody;
      return MHD_YES;
    }
    if (*length > options_.max_upload_bytes) {
      return Refuse(c, ex,
                    ErrorResponse(Error(ErrorCode::kPayloadTooLarge,
                                        "upload is over the limit of " + std::to_string(options_.max_upload_bytes) +
                                            " bytes")),
                    true);
    }
    // Open the sink on the pool (it may touch the disk); MHD repeats the
    // first call after the resume, in the same state, so a refusal then is
    // still answered before any body byte is read.
    bool dispatched = Dispatch(c, ex, Step::kOpen, [this, &ex] {
      auto sink = ex.route->open_sink(ex.req);
      if (sink) {
        ex.sink = std::move(*sink);
        ex.stage = Exchange::Stage::kOpened;
      } else {
        ex.res = ErrorResponse(sink.error());
        ex.res.close = ex.has_body;
        ex.stage = Exchange::Stage::kAnswer;
      }
    });
    return dispatched ? MHD_YES : Refuse(c, ex, ShuttingDown(), true);
  }

  MHD_Result OnBodyPiece(MHD_Connection* c, Connection& conn, const char* data, size_t* size) {
    Exchange& ex = conn.ex;
    ex.body_bytes += *size;
    if (!ex.route->streamed()) {
      // Content-Length was checked against the limit; this is a backstop.
      if (ex.body_bytes > options_.max_json_body_bytes) return MHD_NO;
      ex.req.body.append(data, *size);
      *size = 0;
      return MHD_YES;
    }
    // A chunked upload past the limit: no answer can be queued mid-body.
    if (ex.body_bytes > options_.max_upload_bytes) return MHD_NO;
    ex.pending.append(data, *size);
    *size = 0;
    if (ex.pending.size() < kSinkFlushBytes) return MHD_YES;
    bool dispatched = Dispatch(c, ex, Step::kWrite, [&ex] {
      Status st = ex.sink->Write(ex.pending);
      ex.pending.clear();
      if (st) {
        ex.stage = Exchange::Stage::kBody;
      } else {
        DropBody(ex, st.error());
      }
    });
    return dispatched ? MHD_YES : MHD_NO;  // stopping: close mid-body
  }

  MHD_Result OnBodyDone(MHD_Connection* c, Connection& conn) {
    Exchange& ex = conn.ex;
    bool dispatched;
    if (!ex.route->streamed()) {
      dispatched = Dispatch(c, ex, Step::kFinish, [&ex] {
        ex.route->handler(ex.req, ex.res);
        ex.stage = Exchange::Stage::kAnswer;
      });
    } else {
      dispatched = Dispatch(c, ex, Step::kFinish, [this, &ex] {
        Status st = ex.pending.empty() ? Status() : ex.sink->Write(ex.pending);
        ex.pending.clear();
        if (st) {
          ex.sink->Finish(ex.req, ex.res);
        } else {
          ex.res = ErrorResponse(st.error());
        }
        ex.sink.reset();
        ex.stage = Exchange::Stage::kAnswer;
      });
    }
    return dispatched ? MHD_YES : Answer(c, ex, ShuttingDown());
  }

  // What a piece of pool work was doing, for the exception barrier.
  enum class Step { kOpen, kWrite, kFinish };

  // No answer can be queued while the body is coming: the sink goes (and
  // removes what it wrote), the rest of the body is read and dropped, and the
  // error is the answer.
  static void DropBody(Exchange& ex, Error error) {
    ex.failure = std::move(error);
    ex.sink.reset();
    ex.pending.clear();
    ex.stage = Exchange::Stage::kDiscard;
  }

  // Suspends the connection and runs `work` on the pool; the work leaves the
  // exchange in its next stage, then the connection is resumed. An exception
  // becomes a 500 (after the rest of the body when it came mid-body). False,
  // with nothing done, while the server stops.
  bool Dispatch(MHD_Connection* c, Exchange& ex, Step step, std::function<void()> work) {
    // Set before the work is posted: the work moves the stage on.
    Exchange::Stage before = std::exchange(ex.stage, Exchange::Stage::kRunning);
    bool started = RunSuspended(c, [this, &ex, step, work = std::move(work)]() noexcept {
      try {
        work();
      } catch (...) {
        Fail(ex, step, std::current_exception());
      }
    });
    if (!started) ex.stage = before;  // the caller answers instead
    return started;
  }

  // Suspends `c` and runs `work` (which must not throw) on the pool, then
  // resumes `c`; until then everything of the connection belongs to the
  // work. False, with nothing done, while the server stops. Called on the
  // I/O thread, from the request handler or a body reader.
  bool RunSuspended(MHD_Connection* c, std::function<void()> work) {
    {
      std::lock_guard lock(flight_mu_);
      if (stopping_) return false;
      ++in_flight_;
    }
    MHD_suspend_connection(c);
    pool_->Post([this, c, work = std::move(work)] {
      work();
      MHD_resume_connection(c);
      {
        std::lock_guard lock(flight_mu_);
        --in_flight_;
      }
      flight_cv_.notify_all();
    });
    return true;
  }

  // The exception barrier of pool work: a 500 naming the exception, logged.
  void Fail(Exchange& ex, Step step, std::exception_ptr ep) noexcept {
    try {
      std::string what = DescribeException(ep);
      options_.log("http: " + ex.req.method + " " + ex.req.path + ": unexpected error: " + what);
      Error error = Internal("unexpected error: " + what);
      if (step == Step::kWrite) {
        DropBody(ex, error);
        return;
      }
      ex.sink.reset();
      ex.pending.clear();
      ex.res = ErrorResponse(error);
      ex.res.close = step == Step::kOpen && ex.has_body;
      ex.stage = Exchange::Stage::kAnswer;
    } catch (...) {  // even the error could not be written (out of memory)
      ex.res = Response();
      ex.res.status = 500;
      ex.res.close = true;
      ex.stage = Exchange::Stage::kAnswer;
    }
  }

  Response ShuttingDown() {
    Response res = ErrorResponse(Error(ErrorCode::kUnavailable, "the server is shutting down"));
    res.close = true;
    return res;
  }

  // A refusal from the headers alone. With a body announced, the answer goes
  // now and MHD closes the connection without reading the body (queued in
  // the first call, it sets read_closed); without one, it is queued at the
  // request's end so the connection stays open for the next request.
  MHD_Result Refuse(MHD_Connection* c, Exchange& ex, Response res, bool close) {
    if (close) {
      res.close = true;
      return Queue(c, res, ex);
    }
    ex.res = std::move(res);
    ex.stage = Exchange::Stage::kAnswer;
    return MHD_YES;
  }

  MHD_Result Answer(MHD_Connection* c, Exchange& ex, Response res) {
    ex.res = std::move(res);
    ex.stage = Exchange::Stage::kAnswer;
    return Queue(c, ex.res, ex);
  }

  Response ErrorResponse(const Error& e) {
    Response res;
    options_.render_error(e, res);
    return res;
  }

  static std::string SizeText(uint64_t bytes) {
    if (bytes % (1 << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
    return std::to_string(bytes) + "-byte";
  }

  MHD_Result Queue(MHD_Connection* c, Response& res, const Exchange& ex);

  static HttpServerOptions WithDefaults(HttpServerOptions o) {
    if (!o.render_error) {
      o.render_error = [](const Error& e, Response& res) { res.SetString(500, e.message() + "\n", "text/plain"); };
    }
    if (!o.log) o.log = [](std::string_view line) { std::cerr << line << std::endl; };
    return o;
  }
  bool Stopping() {
    std::lock_guard lock(flight_mu_);
    return stopping_;
  }

  HttpServerOptions options_;
  ListenSocket listen_;
  MHD_Daemon* daemon_ = nullptr;
  std::unique_ptr<ThreadPool> pool_;

  std::mutex flight_mu_;
  std::condition_variable flight_cv_;
  bool stopping_ = false;
  size_t in_flight_ = 0;

  HeaderDeadline deadline_;
};

MHD_Result ServerImpl::Queue(MHD_Connection* c, Response& res, const Exchange& ex) {
  if (options_.on_answer) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - ex.started).count();
    options_.on_answer(ex.req, ex.route, res.status, seconds);
  }
  MHD_Response* r = nullptr;
  if (res.kind == Response::Kind::kFile) {
    // Read on the pool (a slow disk must not hold the I/O thread), in
    // pieces, with the connection suspended while a piece is read.
    r = FileResponse(
        std::move(res.file), res.file_offset, res.size,
        [this, c](std::function<void()> read) { return RunSuspended(c, std::move(read)); }, options_.log);
    if (r != nullptr) AddHeaders(r, res, options_.log);
  } else {
    r = ToMhdResponse(res, options_.log);
  }
  if (r == nullptr) return MHD_NO;
  MHD_Result ok = MHD_queue_response(c, static_cast<unsigned>(res.status), r);
  MHD_destroy_response(r);
  return ok;
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Create(HttpServerOptions options) {
  auto server = std::make_unique<ServerImpl>(std::move(options));
  LOTE_TRY(server->Bind());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace lote::http
