// The HTTP server over real loopback sockets: limits, early refusals that
// close, pipelining, the handler pool, streamed bodies and the header
// deadline. Bounds on time are generous: they say "not forever", not "fast".
#include "http/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

namespace lote::http {
namespace {

using namespace std::chrono_literals;

class Socket {
 public:
  explicit Socket(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~Socket() { ::close(fd_); }
  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until `pred(buffer)` or the peer closes or `timeout` passes.
  std::string ReadUntil(const std::function<bool(const std::string&)>& pred, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred(buf_) && !closed_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char tmp[65536];
      ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      buf_.append(tmp, static_cast<size_t>(n));
    }
    return buf_;
  }

  // One whole response (headers and a Content-Length body); "" on timeout.
  std::string ReadResponse(std::chrono::milliseconds timeout = 10s) {
    auto complete = [](const std::string& b) { return ResponseLength(b) > 0; };
    ReadUntil(complete, timeout);
    size_t n = ResponseLength(buf_);
    if (n == 0) return "";
    std::string out = buf_.substr(0, n);
    buf_.erase(0, n);
    return out;
  }

  // True when the peer closes within `timeout` (data before the close is kept).
  bool ClosedWithin(std::chrono::milliseconds timeout) {
    ReadUntil([](const std::string&) { return false; }, timeout);
    return closed_;
  }

  static size_t ResponseLength(const std::string& b) {
    size_t end = b.find("\r\n\r\n");
    if (end == std::string::npos) return 0;
    size_t cl = b.find("Content-Length: ");
    size_t len = 0;
    if (cl != std::string::npos && cl < end) len = std::stoul(b.substr(cl + 16));
    return b.size() >= end + 4 + len ? end + 4 + len : 0;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string buf_;
};

int StatusOf(const std::string& response) {
  return response.size() > 12 ? std::stoi(response.substr(9, 3)) : 0;
}

std::string BodyOf(const std::string& response) {
  size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// Collects a streamed body; fails on the second write when told to.
class RecordingSink : public BodySink {
 public:
  RecordingSink(std::string* out, bool fail_second) : out_(out), fail_second_(fail_second) {}
  Status Write(std::string_view data) override {
    if (fail_second_ && ++writes_ == 2) return IoError("disk full (test)");
    out_->append(data);
    return {};
  }
  void Finish(const Request&, Response& res) override {
    res.SetString(201, "stored " + std::to_string(out_->size()), "text/plain");
  }

 private:
  std::string* out_;
  bool fail_second_;
  int writes_ = 0;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions o = {}) {
    router_.Get("/hello", [](const Request& req, Response& res) {
      res.SetString(200, "hello " + std::string(req.Query("who")), "text/plain");
    });
    router_.Post("/echo", [](const Request& req, Response& res) { res.SetString(200, req.body, "text/plain"); });
    router_.Get("/slow", [](const Request&, Response& res) {
      std::this_thread::sleep_for(2s);
      res.SetString(200, "slow", "text/plain");
    });
    router_.Get("/throw", [](const Request&, Response&) { throw std::runtime_error("boom"); });
    router_.Get("/provided", [](const Request& req, Response& res) {
      // 26 letters in pieces of at most 5, sized or (?unsized) not.
      BodyProvider p = [](uint64_t off, char* buf, size_t max) -> ssize_t {
        if (off >= 26) return 0;
        size_t n = std::min<size_t>({max, 5, 26 - off});
        for (size_t i = 0; i < n; ++i) buf[i] = static_cast<char>('a' + off + i);
        return static_cast<ssize_t>(n);
      };
      res.SetProvider(200, p, req.HasQuery("unsized") ? kUnknownSize : 26, "text/plain");
    });
    router_.Get("/file", [this](const Request& req, Response& res) {
      UniqueFd fd(::open(file_path_.c_str(), O_RDONLY | O_CLOEXEC));
      uint64_t size = file_content_.size() + (req.HasQuery("lie") ? 1000 : 0);  // "lie": the file shrank
      res.SetFile(200, std::move(fd), size, "application/octet-stream");
    });
    router_.Get("/items/{id}", [](const Request& req, Response& res) {
      res.SetString(200, std::string(req.Param("id")), "text/plain");
    });
    router_.AddStream("PUT", "/files/{name}", [this](const Request& req) -> Result<std::unique_ptr<BodySink>> {
      if (req.Param("name") == "refused") return AlreadyExists("refused exists");
      return std::unique_ptr<BodySink>(std::make_unique<RecordingSink>(&stored_, req.Param("name") == "fail"));
    });
    o.router = &router_;
    o.render_error = [](const Error& e, Response& res) {
      int status = e.code() == ErrorCode::kNotFound              ? 404
                   : e.code() == ErrorCode::kInvalidArgument     ? 400
                   : e.code() == ErrorCode::kPayloadTooLarge     ? 413
                   : e.code() == ErrorCode::kAlreadyExists       ? 409
                   : e.code() == ErrorCode::kUnauthenticated     ? 401
                   : e.code() == ErrorCode::kUnavailable         ? 503
                   : e.code() == ErrorCode::kIo                  ? 500
                                                                 : 500;
      res.SetString(status, e.message(), "text/plain");
    };
    o.gate = [](const Request& req) -> std::optional<Response> {
      if (req.HeaderValue("Authorization") == "Bearer ok") return std::nullopt;
      Response res;
      res.SetString(401, "no token", "text/plain");
      return res;
    };
    o.log = [this](std::string_view line) {
      std::lock_guard lock(log_mu_);
      log_ += std::string(line) + "\n";
    };
    auto server = HttpServer::Create(std::move(o));
    ASSERT_TRUE(server) << server.error().message();
    server_ = std::move(*server);
    ASSERT_TRUE(server_->Start());
    port_ = server_->port();
  }

  void TearDown() override {
    if (server_) server_->Stop();
    if (!file_path_.empty()) ::unlink(file_path_.c_str());
  }

  void WriteFile(size_t n) {
    file_path_ = ::testing::TempDir() + "http_server_test_file_" + std::to_string(::getpid());
    file_content_.clear();
    for (size_t i = 0; i < n; ++i) file_content_.push_back(static_cast<char>('A' + (i * 7919) % 26));
    FILE* f = std::fopen(file_path_.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(file_content_.data(), 1, file_content_.size(), f);
    std::fclose(f);
  }

  static std::string Get(std::string_view target, std::string_view extra = "") {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\n" +
           std::string(extra) + "\r\n";
  }

  Router router_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::string stored_;
  std::string file_path_;
  std::string file_content_;
  std::mutex log_mu_;
  std::string log_;
};

TEST_F(HttpServerTest, AnswersAndKeepsTheConnection) {
  StartServer();
  Socket s(port_);
  ASSERT_TRUE(s.connected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(s.Send(Get("/hello?who=a%20b")));
    std::string r = s.ReadResponse();
    EXPECT_EQ(StatusOf(r), 200) << r;
    EXPECT_EQ(BodyOf(r), "hello a b");
  }
  ASSERT_TRUE(s.Send(Get("/items/x%2Fy")));
  EXPECT_EQ(BodyOf(s.ReadResponse()), "x/y");
}

TEST_F(HttpServerTest, ProvidedBodiesSizedAndUnsized) {
  StartServer();
  Socket s(port_);
  ASSERT_TRUE(s.Send(Get("/provided")));
  EXPECT_EQ(BodyOf(s.ReadResponse()), "abcdefghijklmnopqrstuvwxyz");
  ASSERT_TRUE(s.Send(Get("/provided?unsized", "Connection: close\r\n")));
  std::string r = s.ReadUntil([](const std::string&) { return false; }, 5s);
  EXPECT_NE(r.find("Transfer-Encoding: chunked"), std::string::npos) << r;
  EXPECT_NE(r.find("abcde"), std::string::npos) << r;
  EXPECT_NE(r.find("z\r\n0\r\n\r\n"), std::string::npos) << r;
}

TEST_F(HttpServerTest, FilesAreReadOnThePoolInPieces) {
  StartServer();
  WriteFile((1 << 20) + 123);  // more than four pieces of 256 KiB
  Socket s(port_);
  for (int i = 0; i < 2; ++i) {  // twice on one connection
    ASSERT_TRUE(s.Send(Get("/file")));
    std::string r = s.ReadResponse();
    EXPECT_EQ(StatusOf(r), 200);
    EXPECT_TRUE(BodyOf(r) == file_content_) << BodyOf(r).size();
  }
}

TEST_F(HttpServerTest, AFileThatShrankEndsTheAnswerShortAndIsLogged) {
  StartServer();
  WriteFile(1000);
  Socket s(port_);
  ASSERT_TRUE(s.Send(Get("/file?lie")));
  std::string r = s.ReadUntil([](const std::string&) { return false; }, 5s);
  EXPECT_TRUE(s.ClosedWithin(1s));
  EXPECT_NE(r.find("Content-Length: 2000"), std::string::npos) << r.substr(0, 200);
  EXPECT_EQ(BodyOf(r), file_content_);
  Socket next(port_);
  ASSERT_TRUE(next.Send(Get("/hello")));
  EXPECT_EQ(StatusOf(next.ReadResponse()), 200);
  std::lock_guard lock(log_mu_);
  EXPECT_NE(log_.find("a file ended before its announced size"), std::string::npos) << log_;
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  Socket s(port_);
  std::string post = "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\nContent-Length: 5\r\n\r\nfirst";
  ASSERT_TRUE(s.Send(post + Get("/hello?who=second") + Get("/nothing") + Get("/hello?who=fourth")));
  EXPECT_EQ(BodyOf(s.ReadResponse()), "first");
  EXPECT_EQ(BodyOf(s.ReadResponse()), "hello second");
  std::string r = s.ReadResponse();
  EXPECT_EQ(StatusOf(r), 404);  // a bodiless refusal keeps the connection
  EXPECT_EQ(BodyOf(r), "no route for GET /nothing");
  EXPECT_EQ(BodyOf(s.ReadResponse()), "hello fourth");
}

TEST_F(HttpServerTest, ARefusalWithABodyClosesAndNeverParsesTheBody) {
  StartServer();
  Socket s(port_);
  std::string smuggled = Get("/hello?who=smuggled");
  ASSERT_TRUE(s.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(smuggled.size()) +
                     "\r\n\r\n"));
  std::this_thread::sleep_for(200ms);
  s.Send(smuggled);  // the "body" is a whole request; it may meet a closed socket
  std::string all = s.ReadUntil([](const std::string&) { return false; }, 5s);
  EXPECT_EQ(StatusOf(all), 401) << all;
  EXPECT_NE(all.find("Connection: close"), std::string::npos) << all;
  EXPECT_EQ(all.find("smuggled"), std::string::npos) << all;
  EXPECT_TRUE(s.ClosedWithin(5s));
}

TEST_F(HttpServerTest, ABodilessRefusalKeepsTheConnection) {
  StartServer();
  Socket s(port_);
  ASSERT_TRUE(s.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(StatusOf(s.ReadResponse()), 401);
  ASSERT_TRUE(s.Send(Get("/hello?who=again")));
  EXPECT_EQ(BodyOf(s.ReadResponse()), "hello again");
}

TEST_F(HttpServerTest, PostWithoutLengthIs411AndClosed) {
  StartServer();
  Socket s(port_);
  ASSERT_TRUE(s.Send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\n\r\n"));
  std::string r = s.ReadResponse();
  EXPECT_EQ(StatusOf(r), 411) << r;
  EXPECT_NE(BodyOf(r).find("needs a Content-Length header"), std::string::npos);
  EXPECT_TRUE(s.ClosedWithin(5s));
}

TEST_F(HttpServerTest, JsonBodiesOverTheLimitOrChunkedAre413) {
  HttpServerOptions o;
  o.max_json_body_bytes = 1000;
  StartServer(o);
  Socket big(port_);
  ASSERT_TRUE(big.Send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\nContent-Length: 1001\r\n\r\n"));
  std::string r = big.ReadResponse();
  EXPECT_EQ(StatusOf(r), 413) << r;
  EXPECT_TRUE(big.ClosedWithin(5s));
  Socket chunked(port_);
  ASSERT_TRUE(chunked.Send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
  EXPECT_EQ(StatusOf(chunked.ReadResponse()), 413);
  Socket fits(port_);
  ASSERT_TRUE(fits.Send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\nContent-Length: 1000\r\n\r\n" +
                        std::string(1000, 'x')));
  EXPECT_EQ(BodyOf(fits.ReadResponse()), std::string(1000, 'x'));
}

TEST_F(HttpServerTest, HeadersOverTheLimitAreRefusedAndClosed) {
  HttpServerOptions o;
  o.max_header_bytes = 8 << 10;
  StartServer(o);
  Socket line(port_);
  line.Send("GET /" + std::string(64 << 10, 'a'));  // no newline ever comes
  std::string r = line.ReadUntil([](const std::string&) { return false; }, 5s);
  EXPECT_EQ(StatusOf(r), 414) << r.substr(0, 200);
  EXPECT_TRUE(line.ClosedWithin(5s));
  Socket headers(port_);
  std::string many = "GET /hello HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 400; ++i) many += "X-Filler-" + std::to_string(i) + ": " + std::string(40, 'v') + "\r\n";
  headers.Send(many + "\r\n");
  r = headers.ReadUntil([](const std::string&) { return false; }, 5s);
  EXPECT_EQ(StatusOf(r), 431) << r.substr(0, 200);
  // The server still answers.
  Socket ok(port_);
  ASSERT_TRUE(ok.Send(Get("/hello")));
  EXPECT_EQ(StatusOf(ok.ReadResponse()), 200);
}

TEST_F(HttpServerTest, ASlowHandlerDoesNotStallOtherConnections) {
  StartServer();
  Socket slow(port_);
  ASSERT_TRUE(slow.Send(Get("/slow")));
  std::this_thread::sleep_for(100ms);
  auto started = std::chrono::steady_clock::now();
  Socket quick(port_);
  ASSERT_TRUE(quick.Send(Get("/hello")));
  EXPECT_EQ(StatusOf(quick.ReadResponse()), 200);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);  // the slow one takes 2 s
  EXPECT_EQ(BodyOf(slow.ReadResponse()), "slow");
}

TEST_F(HttpServerTest, AnExceptionInAHandlerIsA500AndLogged) {
  StartServer();
  Socket s(port_);
  ASSERT_TRUE(s.Send(Get("/throw")));
  std::string r = s.ReadResponse();
  EXPECT_EQ(StatusOf(r), 500);
  EXPECT_EQ(BodyOf(r), "unexpected error: boom");
  ASSERT_TRUE(s.Send(Get("/hello")));
  EXPECT_EQ(StatusOf(s.ReadResponse()), 200);
  std::lock_guard lock(log_mu_);
  EXPECT_NE(log_.find("GET /throw: unexpected error: boom"), std::string::npos) << log_;
}

TEST_F(HttpServerTest, StreamedBodiesReachTheSinkInOrder) {
  StartServer();
  std::string body;
  for (int i = 0; body.size() < (1 << 20); ++i) body += std::to_string(i) + ",";
  Socket s(port_);
  ASSERT_TRUE(s.Send("PUT /files/a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n"));
  for (size_t off = 0; off < body.size(); off += 10000) ASSERT_TRUE(s.Send(std::string_view(body).substr(off, 10000)));
  std::string r = s.ReadResponse();
  EXPECT_EQ(StatusOf(r), 201) << r;
  EXPECT_EQ(stored_, body);
}

TEST_F(HttpServerTest, AnEmptyStreamedBodyIsFinished) {
  StartServer();
  Socket s(port_);
  ASSERT_TRUE(s.Send("PUT /files/a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\nContent-Length: 0\r\n\r\n"));
  std::string r = s.ReadResponse();
  EXPECT_EQ(StatusOf(r), 201) << r;
  EXPECT_EQ(BodyOf(r), "stored 0");
  // A chunked one too, and the connection stays usable.
  ASSERT_TRUE(s.Send("PUT /files/b HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
  r = s.ReadResponse();
  EXPECT_EQ(StatusOf(r), 201) << r;
  EXPECT_EQ(BodyOf(r), "stored 3");
}

TEST_F(HttpServerTest, ASinkThatCannotOpenIsAnsweredBeforeTheBody) {
  StartServer();
  Socket s(port_);
  ASSERT_TRUE(s.Send("PUT /files/refused HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\nContent-Length: 100\r\n\r\n"));
  std::string r = s.ReadResponse();
  EXPECT_EQ(StatusOf(r), 409) << r;
  EXPECT_TRUE(s.ClosedWithin(5s));
}

TEST_F(HttpServerTest, ASinkErrorIsTheAnswerOnceTheBodyIsIn) {
  StartServer();
  std::string body(1 << 20, 'z');  // several flushes
  Socket s(port_);
  ASSERT_TRUE(s.Send("PUT /files/fail HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ok\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body));
  std::string r = s.ReadResponse();
  EXPECT_EQ(StatusOf(r), 500) << r;
  EXPECT_EQ(BodyOf(r), "disk full (test)");
}

TEST_F(HttpServerTest, ClientsThatTrickleTheirHeadersAreClosedAtTheDeadline) {
  HttpServerOptions o;
  o.header_timeout_s = 1;
  StartServer(o);
  Socket s(port_);
  std::string request = Get("/hello");
  auto started = std::chrono::steady_clock::now();
  bool closed = false;
  for (char c : request) {  // a byte every 100 ms: never idle long, never done in time
    if (!s.Send(std::string(1, c)) || s.ClosedWithin(100ms)) {
      closed = true;
      break;
    }
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  // The same on a keep-alive connection, after a first request.
  Socket k(port_);
  ASSERT_TRUE(k.Send(Get("/hello")));
  EXPECT_EQ(StatusOf(k.ReadResponse()), 200);
  std::this_thread::sleep_for(1500ms);  // idle longer than the header deadline: still open
  closed = false;
  started = std::chrono::steady_clock::now();
  for (char c : request) {
    if (!k.Send(std::string(1, c)) || k.ClosedWithin(100ms)) {
      closed = true;
      break;
    }
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST_F(HttpServerTest, ATakenPortIsRefusedNamingIt) {
  StartServer();
  HttpServerOptions o;
  o.port = port_;
  o.router = &router_;
  auto second = HttpServer::Create(o);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), ErrorCode::kIo);
  EXPECT_NE(second.error().message().find("127.0.0.1:" + std::to_string(port_)), std::string::npos);
  EXPECT_NE(second.error().message().find("Address already in use"), std::string::npos);
}

TEST_F(HttpServerTest, StopWaitsForRunningHandlers) {
  StartServer();
  Socket slow(port_);
  ASSERT_TRUE(slow.Send(Get("/slow")));
  std::this_thread::sleep_for(200ms);
  server_->Stop();  // MHD may not be stopped with a suspended connection: no abort here
  std::string r = slow.ReadUntil([](const std::string&) { return false; }, 5s);
  SUCCEED() << r;
}

}  // namespace
}  // namespace lote::http
