#include "http/router.h"

#include "http/url.h"

namespace lote::http {

namespace {

// "/a/b/c" -> {"a", "b", "c"}; "/" -> {""}; "/a/" -> {"a", ""}.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  path.remove_prefix(1);
  for (;;) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

Route& Router::AddRoute(std::string method, std::string_view pattern) {
  auto route = std::make_unique<Route>();
  route->method = std::move(method);
  route->pattern = std::string(pattern);
  auto parts = SplitPath(pattern);
  LOTE_CHECK(!parts.empty());
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    LOTE_CHECK(!p.empty() || pattern == "/");  // "/" alone: the root (one empty segment)
    if (p.front() == '{' && p.back() == '}') {
      p = p.substr(1, p.size() - 2);
      if (p.ends_with("...")) {
        LOTE_CHECK(i + 1 == parts.size());  // a rest capture ends the pattern
        p.remove_suffix(3);
        route->segments.push_back({Route::Segment::Kind::kRest, std::string(p)});
      } else {
        route->segments.push_back({Route::Segment::Kind::kCapture, std::string(p)});
      }
      LOTE_CHECK(!route->segments.back().text.empty());
    } else {
      route->segments.push_back({Route::Segment::Kind::kLiteral, std::string(p)});
    }
  }
  routes_.push_back(std::move(route));
  return *routes_.back();
}

void Router::Add(std::string method, std::string_view pattern, Handler handler) {
  LOTE_CHECK(handler != nullptr);
  AddRoute(std::move(method), pattern).handler = std::move(handler);
}

void Router::AddStream(std::string method, std::string_view pattern, SinkOpener open_sink) {
  LOTE_CHECK(open_sink != nullptr);
  AddRoute(std::move(method), pattern).open_sink = std::move(open_sink);
}

Result<Router::Match> Router::Find(std::string_view method, std::string_view path) const {
  using Kind = Route::Segment::Kind;
  auto parts = SplitPath(path);
  for (const auto& route : routes_) {
    if (route->method != method) continue;
    const auto& segs = route->segments;
    bool has_rest = segs.back().kind == Kind::kRest;
    if (has_rest ? parts.size() < segs.size() : parts.size() != segs.size()) continue;
    // The shape first: literals equal, captures non-empty.
    bool shape = true;
    for (size_t i = 0; i < segs.size() && shape; ++i) {
      switch (segs[i].kind) {
        case Kind::kLiteral: shape = parts[i] == segs[i].text; break;
        case Kind::kCapture: shape = !parts[i].empty(); break;
        // The rest may start with an empty segment ("files//tmp/x" captures
        // "/tmp/x", which the datastore then refuses as absolute).
        case Kind::kRest: shape = parts.size() > i + 1 || !parts[i].empty(); break;
      }
    }
    if (!shape) continue;
    // Then the captures, decoded; a malformed one is the client's error.
    Match m;
    m.route = route.get();
    for (size_t i = 0; i < segs.size(); ++i) {
      if (segs[i].kind == Kind::kLiteral) continue;
      std::string_view raw = parts[i];
      if (segs[i].kind == Kind::kRest) {  // from this segment to the end, slashes kept
        raw = std::string_view(parts[i].data(), path.data() + path.size() - parts[i].data());
      }
      auto decoded = PercentDecode(raw);
      if (!decoded) {
        return InvalidArgument("the path segment '" + std::string(raw) +
                               "' has a malformed %-escape or an escaped NUL byte");
      }
      m.params.emplace_back(segs[i].text, std::move(*decoded));
    }
    return m;
  }
  return NotFound("no route for " + std::string(method) + " " + std::string(path));
}

}  // namespace lote::http
