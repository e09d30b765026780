// Routes: a method and a path pattern, matched segment by segment.
//
// A pattern is literal segments and captures: "/api/v1/jobs/{job}/tasks/{task}/fail"
// captures one non-empty segment per "{name}", and a last "{name...}" captures
// the rest of the path (one or more segments, slashes kept). "/" alone is
// the root path. Literal segments
// are compared with the path as sent; captures are percent-decoded after the
// split, so an escaped '/' ("a%2Fb") stays inside its capture. No regex ever
// runs on request text. The first route registered that matches wins.
//
// A route either buffers its body (at most the server's JSON limit) and runs
// a Handler, or streams its body into a BodySink it opens from the headers.
// Handlers, openers and sinks run on the server's handler pool, never on its
// I/O thread; the server turns an exception escaping any of them into a 500.
// Register every route before the server starts: the Router is not locked.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "http/request.h"
#include "http/response.h"

namespace lote::http {

using Handler = std::function<void(const Request&, Response&)>;

// Where a streamed request body goes. Write() gets the body in order, in
// pieces of a few dozen KiB; after the last piece Finish() answers the
// request. When a Write() fails the request is answered with its error and no
// more pieces come. A sink destroyed without Finish() (the client went away,
// a write failed) must undo what it started, e.g. remove its partial file.
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual Status Write(std::string_view data) = 0;
  virtual void Finish(const Request& req, Response& res) = 0;
};

// Opens the sink of a streamed route from the request line and headers,
// before any body byte is read; an error is the answer (and the connection
// is closed, its body unread).
using SinkOpener = std::function<Result<std::unique_ptr<BodySink>>(const Request&)>;

struct Route {
  struct Segment {
    enum class Kind { kLiteral, kCapture, kRest };
    Kind kind;
    std::string text;  // the literal, or the capture's name
  };
  std::string method;
  std::string pattern;
  std::vector<Segment> segments;
  Handler handler;        // buffered routes
  SinkOpener open_sink;   // streamed routes
  bool streamed() const { return static_cast<bool>(open_sink); }
};

class Router {
 public:
  void Add(std::string method, std::string_view pattern, Handler handler);
  void AddStream(std::string method, std::string_view pattern, SinkOpener open_sink);

  void Get(std::string_view p, Handler h) { Add("GET", p, std::move(h)); }
  void Post(std::string_view p, Handler h) { Add("POST", p, std::move(h)); }
  void Put(std::string_view p, Handler h) { Add("PUT", p, std::move(h)); }
  void Patch(std::string_view p, Handler h) { Add("PATCH", p, std::move(h)); }
  void Delete(std::string_view p, Handler h) { Add("DELETE", p, std::move(h)); }

  struct Match {
    const Route* route = nullptr;
    std::vector<std::pair<std::string, std::string>> params;
  };
  // The route for method + path (the raw path, without the query). NotFound
  // when none matches; InvalidArgument when one would match but a captured
  // segment has a malformed escape or an escaped NUL byte.
  Result<Match> Find(std::string_view method, std::string_view path) const;

 private:
  Route& AddRoute(std::string method, std::string_view pattern);
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace lote::http
