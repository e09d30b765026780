// The HTTP layer's request-target handling (http/url.h SplitTarget,
// ParseQuery, PercentDecode; http/router.h Router::Find) on any request line,
// with lote's real route table, and the token check beside it
// (server/auth.h Authorize), as http/server.cc and the API server chain
// them. Input: the method, then the request target ("/api/v1/…?x=1"), one
// per line.
//
// Checked against a reference written here from the headers' contracts:
//   - SplitTarget splits at the first '?' and loses nothing;
//   - PercentDecode decodes %XX (either case) and refuses a '%' without two
//     hex digits and an escaped NUL; it inverts a full percent-encoding;
//   - Find picks the first route whose method matches and whose segments
//     match (literals as sent, captures one non-empty segment, a last
//     "{rest...}" one or more segments); NotFound when none does;
//     InvalidArgument when that route's captures do not decode; otherwise
//     that route, with each capture decoded in order;
//   - what an agent token is authorized to call routes to its own job
//     ({job} is the token's job), and what an endpoint token is authorized
//     to call routes to its own endpoint's jobs route.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "http/router.h"
#include "http/url.h"
#include "server/auth.h"

using lote::fuzz::FuzzCheck;
using lote::fuzz::InputReader;
namespace http = lote::http;
namespace server = lote::server;

namespace {

// lote's routes (src/server/routes_*.cc and api_server.cc), in their order.
constexpr const char* kRoutes[][2] = {
    {"GET", "/api/v1/health"},
    {"POST", "/api/v1/datastores"},
    {"GET", "/api/v1/datastores"},
    {"GET", "/api/v1/datastores/{name}"},
    {"DELETE", "/api/v1/datastores/{name}"},
    {"PUT", "/api/v1/datastores/{name}/files/{path...}"},
    {"GET", "/api/v1/datastores/{name}/files/{path...}"},
    {"POST", "/api/v1/uploads"},
    {"PUT", "/api/v1/uploads/{upload}/files/{path...}"},
    {"POST", "/api/v1/models"},
    {"GET", "/api/v1/models"},
    {"GET", "/api/v1/models/{name}/versions"},
    {"GET", "/api/v1/models/{name}/versions/{version}"},
    {"DELETE", "/api/v1/models/{name}/versions/{version}"},
    {"POST", "/api/v1/data"},
    {"GET", "/api/v1/data"},
    {"GET", "/api/v1/data/{name}/versions"},
    {"GET", "/api/v1/data/{name}/versions/{version}"},
    {"DELETE", "/api/v1/data/{name}/versions/{version}"},
    {"POST", "/api/v1/endpoints"},
    {"GET", "/api/v1/endpoints"},
    {"GET", "/api/v1/endpoints/{name}"},
    {"PATCH", "/api/v1/endpoints/{name}"},
    {"DELETE", "/api/v1/endpoints/{name}"},
    {"PUT", "/api/v1/endpoints/{name}/deployments/{deployment}"},
    {"GET", "/api/v1/endpoints/{name}/deployments/{deployment}"},
    {"DELETE", "/api/v1/endpoints/{name}/deployments/{deployment}"},
    {"POST", "/api/v1/endpoints/{name}/token"},
    {"POST", "/api/v1/computes"},
    {"GET", "/api/v1/computes"},
    {"GET", "/api/v1/computes/{name}"},
    {"PATCH", "/api/v1/computes/{name}"},
    {"DELETE", "/api/v1/computes/{name}"},
    {"POST", "/api/v1/endpoints/{name}/jobs"},
    {"GET", "/api/v1/jobs"},
    {"GET", "/api/v1/jobs/{job}"},
    {"POST", "/api/v1/jobs/{job}/cancel"},
    {"GET", "/api/v1/jobs/{job}/log"},
    {"GET", "/api/v1/jobs/{job}/files"},
    {"GET", "/api/v1/jobs/{job}/files/{path...}"},
    {"GET", "/api/v1/jobs/{job}/agent-config"},
    {"POST", "/api/v1/jobs/{job}/lease"},
    {"POST", "/api/v1/jobs/{job}/tasks/results"},
    {"POST", "/api/v1/jobs/{job}/tasks/release"},
    {"POST", "/api/v1/jobs/{job}/tasks/{task}/fail"},
    {"GET", "/api/v1/jobs/{job}/mini-batches"},
    {"POST", "/api/v1/dashboard/login-links"},
    {"GET", "/api/v1/dashboard/session"},
    {"POST", "/api/v1/dashboard/logout"},
};
constexpr char kJob[] = "mybatchedp-20261128-1";
constexpr char kEndpoint[] = "mybatchedp";

const http::Router& Routes() {
  static const http::Router router = [] {
    http::Router r;
    for (const auto& [method, pattern] : kRoutes) {
      if (std::string_view(pattern).ends_with("/files/{path...}") && std::string_view(method) == "PUT") {
        r.AddStream(method, pattern, [](const http::Request&) -> lote::Result<std::unique_ptr<http::BodySink>> {
          return lote::Internal("not called");
        });
      } else {
        r.Add(method, pattern, [](const http::Request&, http::Response&) {});
      }
    }
    return r;
  }();
  return router;
}

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    out.push_back(s.substr(start, slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The reference decoder: one byte at a time.
std::optional<std::string> Decode(std::string_view s, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (s.size() - i < 3) return std::nullopt;
      int hi = Hex(s[i + 1]), lo = Hex(s[i + 2]);
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(plus_is_space && s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

std::string EncodeAll(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

struct Expected {
  int route = -1;  // index in kRoutes; -1: none
  std::vector<std::pair<std::string, std::string_view>> raw;  // capture name -> raw text
};

// The first route of the table that matches method + path by shape.
Expected Reference(std::string_view method, std::string_view path) {
  Expected e;
  if (!path.starts_with('/')) return e;
  const auto parts = Split(path.substr(1));
  for (size_t r = 0; r < std::size(kRoutes); ++r) {
    if (method != kRoutes[r][0]) continue;
    const auto segs = Split(std::string_view(kRoutes[r][1]).substr(1));
    const bool rest = segs.back().ends_with("...}");
    if (rest ? parts.size() < segs.size() : parts.size() != segs.size()) continue;
    bool ok = true;
    std::vector<std::pair<std::string, std::string_view>> raw;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      std::string_view seg = segs[i];
      if (!seg.starts_with('{')) {
        ok = parts[i] == seg;
      } else if (seg.ends_with("...}")) {
        // From this segment to the end of the path: one or more segments.
        std::string_view all(parts[i].data(), path.data() + path.size() - parts[i].data());
        ok = !all.empty();
        raw.emplace_back(std::string(seg.substr(1, seg.size() - 5)), all);
      } else {
        ok = !parts[i].empty();
        raw.emplace_back(std::string(seg.substr(1, seg.size() - 2)), parts[i]);
      }
    }
    if (ok) {
      e.route = static_cast<int>(r);
      e.raw = std::move(raw);
      return e;
    }
  }
  return e;
}

std::string_view ParamOf(const http::Router::Match& m, std::string_view name) {
  for (const auto& [k, v] : m.params) {
    if (k == name) return v;
  }
  return "\x01(none)";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  InputReader in(data, size);
  const std::string method(in.Line());
  const std::string target(in.Line());

  // The target, as the server splits it.
  auto [path, query] = http::SplitTarget(target);
  const size_t q = target.find('?');
  FuzzCheck(path == std::string_view(target).substr(0, q), "SplitTarget: the path is not what precedes '?'");
  FuzzCheck(query == (q == std::string::npos ? std::string_view() : std::string_view(target).substr(q + 1)),
            "SplitTarget: the query is not what follows '?'");
  for (const auto& [k, v] : http::ParseQuery(query)) {
    FuzzCheck(k.size() + v.size() <= query.size(), "ParseQuery grew a parameter");
  }

  // PercentDecode against the reference, both ways.
  for (bool plus : {false, true}) {
    auto got = http::PercentDecode(path, plus);
    auto want = Decode(path, plus);
    FuzzCheck(got == want, std::string("PercentDecode differs from the reference on '") + std::string(path) + "'");
    if (got && got->find('\0') == std::string::npos) {
      FuzzCheck(http::PercentDecode(EncodeAll(*got), plus) == *got, "PercentDecode does not invert %-encoding");
    }
  }

  // Routing against the reference.
  auto match = Routes().Find(method, path);
  const Expected want = Reference(method, path);
  if (want.route < 0) {
    FuzzCheck(!match && match.error().code() == lote::ErrorCode::kNotFound,
              "Find matches a path no route matches: " + std::string(path));
    return 0;
  }
  bool decodable = true;
  for (const auto& [name, raw] : want.raw) decodable = decodable && Decode(raw, false).has_value();
  if (!decodable) {
    FuzzCheck(!match && match.error().code() == lote::ErrorCode::kInvalidArgument,
              "Find: a capture that does not decode is not InvalidArgument: " + std::string(path));
    return 0;
  }
  FuzzCheck(match.has_value(), "Find refuses a path that route " + std::string(kRoutes[want.route][1]) +
                                   " matches: " + (match ? std::string() : match.error().message()));
  FuzzCheck(match->route->pattern == kRoutes[want.route][1] && match->route->method == kRoutes[want.route][0],
            "Find picks " + match->route->pattern + ", not the first route that matches, " + kRoutes[want.route][1]);
  FuzzCheck(match->params.size() == want.raw.size(), "Find captures a different number of segments");
  for (size_t i = 0; i < want.raw.size(); ++i) {
    FuzzCheck(match->params[i].first == want.raw[i].first && match->params[i].second == *Decode(want.raw[i].second, false),
              "Find's capture '" + want.raw[i].first + "' is not its segment decoded");
  }

  // What each token may call, it may call only for its own job or endpoint.
  const server::Principal agent{.admin = false, .endpoint = {}, .job = kJob, .endpoint_uid = {}, .read_only = false,
                                .session = false};
  const server::Principal endpoint{.admin = false, .endpoint = kEndpoint, .job = {}, .endpoint_uid = "uid-1",
                                   .read_only = false, .session = false};
  if (server::Authorize(agent, method, path)) {
    FuzzCheck(std::string_view(match->route->pattern).starts_with("/api/v1/jobs/{job}/") && ParamOf(*match, "job") == kJob,
              "an agent token of job " + std::string(kJob) + " reaches " + match->route->pattern + " with job '" +
                  std::string(ParamOf(*match, "job")) + "'");
  }
  // An endpoint token invokes its own endpoint, or reads a job (whose
  // owner the route then checks: server_context.h CheckJobReader).
  if (server::Authorize(endpoint, method, path)) {
    const std::string& pattern = match->route->pattern;
    const bool invoke = pattern == "/api/v1/endpoints/{name}/jobs" && ParamOf(*match, "name") == kEndpoint;
    const bool job_read = method == "GET" && (pattern == "/api/v1/jobs/{job}" || pattern == "/api/v1/jobs/{job}/log" ||
                                              pattern == "/api/v1/jobs/{job}/files" ||
                                              pattern.starts_with("/api/v1/jobs/{job}/files/"));
    FuzzCheck(invoke || job_read, "an endpoint token of " + std::string(kEndpoint) + " reaches " + method + " " +
                                      pattern + " for '" + std::string(ParamOf(*match, "name")) + "'");
  }
  // A read token reads and changes nothing (it may ask for a read-only
  // dashboard login link).
  const server::Principal reader{.admin = false, .endpoint = {}, .job = {}, .endpoint_uid = {}, .read_only = true,
                                 .session = false};
  if (server::Authorize(reader, method, path)) {
    FuzzCheck(method == "GET" || method == "HEAD" || match->route->pattern == "/api/v1/dashboard/login-links",
              "a read token may call " + std::string(method) + " " + match->route->pattern);
  }
  // A dashboard session reads, cancels a job and logs out; a read-only one
  // does not cancel.
  for (bool read_only : {false, true}) {
    const server::Principal session{.admin = !read_only, .endpoint = {}, .job = {}, .endpoint_uid = {},
                                    .read_only = read_only, .session = true};
    if (server::Authorize(session, method, path)) {
      const std::string& pattern = match->route->pattern;
      FuzzCheck(method == "GET" || method == "HEAD" || pattern == "/api/v1/dashboard/logout" ||
                    (!read_only && pattern == "/api/v1/jobs/{job}/cancel"),
                "a dashboard session may call " + std::string(method) + " " + pattern);
    }
  }
  return 0;
}
