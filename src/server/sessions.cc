#include "server/sessions.h"

#include <algorithm>

#include "common/crypto.h"
#include "common/util.h"

namespace lote::server {

namespace {

// Tables are keyed by the secret's hash: map lookups compare bytes in
// order, and the hash of a guess says nothing about the secret's bytes.
std::string Key(std::string_view secret) { return Sha256Hex(secret); }

// Removes the entry closest to expiry.
template <typename Map>
void DropSoonestExpiring(Map& map) {
  auto soonest = std::min_element(map.begin(), map.end(), [](const auto& a, const auto& b) {
    return a.second.expires_at < b.second.expires_at;
  });
  if (soonest != map.end()) map.erase(soonest);
}

}  // namespace

SessionStore::SessionStore(SessionOptions options) : options_(std::move(options)) {}

int64_t SessionStore::Now() const { return options_.now ? options_.now() : NowUnixSeconds(); }

void SessionStore::PruneLinks(int64_t now) {
  // A spent or expired link is kept one more lifetime, so that a second
  // visit is told "already used" or "expired" rather than "unknown".
  std::erase_if(links_, [&](const auto& e) { return e.second.expires_at + options_.link_ttl_s <= now; });
  while (links_.size() >= options_.max_links && !links_.empty()) DropSoonestExpiring(links_);
}

void SessionStore::PruneSessions(int64_t now) {
  std::erase_if(sessions_, [&](const auto& e) { return e.second.expires_at <= now; });
  while (sessions_.size() >= options_.max_sessions && !sessions_.empty()) DropSoonestExpiring(sessions_);
}

std::string SessionStore::CreateLoginLink(bool read_only, std::string_view next) {
  std::string token = RandomHex(32);
  std::lock_guard lock(mu_);
  const int64_t now = Now();
  PruneLinks(now);
  links_[Key(token)] = Link{.read_only = read_only, .next = SafeNextPath(next),
                            .expires_at = now + options_.link_ttl_s, .used = false};
  return token;
}

Login SessionStore::Redeem(std::string_view link_token) {
  Login login;
  std::lock_guard lock(mu_);
  const int64_t now = Now();
  auto it = links_.find(Key(link_token));
  if (it == links_.end()) {
    login.outcome = LinkOutcome::kUnknown;
    return login;
  }
  Link& link = it->second;
  if (link.used) {
    login.outcome = LinkOutcome::kUsed;
    return login;
  }
  if (link.expires_at <= now) {
    login.outcome = LinkOutcome::kExpired;
    return login;
  }
  link.used = true;  // one visit only, whatever follows
  PruneSessions(now);
  login.outcome = LinkOutcome::kOk;
  login.session_id = RandomHex(32);
  login.session = DashboardSession{.csrf = RandomHex(32), .read_only = link.read_only,
                                   .expires_at = now + options_.session_ttl_s};
  login.next = link.next;
  sessions_[Key(login.session_id)] = login.session;
  return login;
}

std::optional<DashboardSession> SessionStore::Find(std::string_view session_id) {
  if (session_id.empty()) return std::nullopt;
  const std::string key = Key(session_id);
  std::lock_guard lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires_at <= Now()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void SessionStore::End(std::string_view session_id) {
  const std::string key = Key(session_id);
  std::lock_guard lock(mu_);
  sessions_.erase(key);
}

size_t SessionStore::session_count() {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

size_t SessionStore::link_count() {
  std::lock_guard lock(mu_);
  return links_.size();
}

std::string_view CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
    std::string_view value = pair.substr(eq + 1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return value;
  }
  return {};
}

std::string SafeNextPath(std::string_view next) {
  if (next.empty() || next.size() > 512 || next.front() != '/' || next.starts_with("//")) return "/";
  for (char c : next) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return "/";
  }
  return std::string(next);
}

Status CheckSessionRequest(const DashboardSession& session, std::string_view method, std::string_view csrf_header,
                           std::string_view origin, std::string_view host) {
  if (method == "GET" || method == "HEAD") return {};
  if (csrf_header.empty() || !ConstantTimeEquals(csrf_header, session.csrf)) {
    return Error(ErrorCode::kPermissionDenied,
                 "a change made with the dashboard's session cookie needs the session's X-CSRF-Token header "
                 "(GET /api/v1/dashboard/session gives it); API clients use a bearer token instead");
  }
  if (!origin.empty()) {
    bool own = !host.empty() && (origin == "http://" + std::string(host) || origin == "https://" + std::string(host));
    if (!own) {
      return Error(ErrorCode::kPermissionDenied,
                   "this request's Origin is not this server's: a dashboard session only acts from the dashboard");
    }
  }
  return {};
}

}  // namespace lote::server
