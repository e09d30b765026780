// Dashboard logins (docs/dashboard.md): one-time login links and the browser
// sessions they open.
//
// `lote dashboard` asks the server for a login link (POST
// /api/v1/dashboard/login-links, bearer token); the browser visits it once,
// within link_ttl_s, and gets a session cookie (HttpOnly, SameSite=Strict)
// that lasts session_ttl_s. A session is read-only when the token that made
// its link was a read token. State changes made with the cookie need the
// session's CSRF secret in X-CSRF-Token, and an Origin (when the browser
// sends one) that is the server's own (CheckSessionRequest).
//
// Secrets (link tokens, session ids) are 256-bit random values; the tables
// are keyed by their sha256, so a lookup compares no secret and neither
// table holds one. Both tables are bounded: expired entries are dropped
// first, then the ones closest to expiry.
//
// Thread safety: every method may be called from any thread (one mutex;
// nothing blocks inside it, so the HTTP server's I/O thread may call Find).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lote::server {

struct SessionOptions {
  std::function<int64_t()> now;  // unix seconds; NowUnixSeconds when unset
  int64_t link_ttl_s = 60;
  int64_t session_ttl_s = 12 * 3600;
  size_t max_links = 256;
  size_t max_sessions = 1024;
};

struct DashboardSession {
  std::string csrf;  // the page sends it back in X-CSRF-Token
  bool read_only = false;
  int64_t expires_at = 0;  // unix seconds
};

// What became of a visit to a login link.
enum class LinkOutcome {
  kOk,
  kUnknown,  // never issued, or forgotten long after it expired
  kUsed,     // already visited once
  kExpired,  // visited too late
};

struct Login {
  LinkOutcome outcome = LinkOutcome::kUnknown;
  std::string session_id;  // the cookie's value (kOk only)
  DashboardSession session;
  std::string next;  // where the browser goes now ("/" or a dashboard page)
};

class SessionStore {
 public:
  explicit SessionStore(SessionOptions options);

  // A new one-time link token; `next` is normalized with SafeNextPath.
  std::string CreateLoginLink(bool read_only, std::string_view next);
  // Spends a link: a session on the first visit within its lifetime.
  Login Redeem(std::string_view link_token);
  // The live session with this id (the cookie's value), if any.
  std::optional<DashboardSession> Find(std::string_view session_id);
  void End(std::string_view session_id);  // logout

  size_t session_count();
  size_t link_count();
  int64_t link_ttl_s() const { return options_.link_ttl_s; }
  int64_t session_ttl_s() const { return options_.session_ttl_s; }

 private:
  struct Link {
    bool read_only = false;
    std::string next;
    int64_t expires_at = 0;
    bool used = false;
  };
  int64_t Now() const;
  void PruneLinks(int64_t now);     // mu_ held
  void PruneSessions(int64_t now);  // mu_ held

  SessionOptions options_;
  std::mutex mu_;
  std::map<std::string, Link> links_;                  // by sha256(token)
  std::map<std::string, DashboardSession> sessions_;  // by sha256(id)
};

// The value of cookie `name` in a Cookie header ("a=1; b=2"), "" when absent.
std::string_view CookieValue(std::string_view cookie_header, std::string_view name);

// A dashboard path to go to after login: a path on this server made only of
// [A-Za-z0-9/_.-] characters ("/jobs/my-job"), else "/". Never "//host" or a
// scheme, so a login link cannot send the browser elsewhere.
std::string SafeNextPath(std::string_view next);

// A request authenticated by the session cookie: reads (GET, HEAD) pass; any
// other method needs X-CSRF-Token equal to the session's secret and, when
// the browser sent an Origin, that Origin to be this server's
// ("http://" or "https://" + the Host header). PermissionDenied otherwise.
Status CheckSessionRequest(const DashboardSession& session, std::string_view method, std::string_view csrf_header,
                           std::string_view origin, std::string_view host);

}  // namespace lote::server
