#include "storage/url_policy.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <cstring>
#include <memory>

#include "common/util.h"

namespace lote::storage {

namespace {

// Parses an address literal into 4 or 16 bytes; returns its family or 0.
int ParseAddress(std::string_view text, unsigned char out[16]) {
  std::string s(text);
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (inet_pton(AF_INET, s.c_str(), out) == 1) return AF_INET;
  if (inet_pton(AF_INET6, s.c_str(), out) == 1) {
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is that IPv4 address.
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(out, kMapped, 12) == 0) {
      std::memmove(out, out + 12, 4);
      return AF_INET;
    }
    return AF_INET6;
  }
  return 0;
}

bool ValidHostPattern(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_')) return false;
  }
  return true;
}

struct CurlUrlFree {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

}  // namespace

Result<UrlPolicy::Pattern> UrlPolicy::ParsePattern(const std::string& text) {
  Pattern p;
  p.text = text;
  std::string t = ToLower(text);
  if (t == "*") {
    p.kind = Pattern::kAny;
    return p;
  }
  if (size_t slash = t.find('/'); slash != std::string::npos) {
    p.kind = Pattern::kRange;
    p.family = ParseAddress(t.substr(0, slash), p.addr);
    int max = p.family == AF_INET ? 32 : 128;
    std::string bits = t.substr(slash + 1);
    if (p.family == 0 || bits.empty() || bits.size() > 3 ||
        bits.find_first_not_of("0123456789") != std::string::npos || std::stoi(bits) > max) {
      return InvalidArgument("URL host pattern " + Quote(text) + " is not an address range such as 10.0.0.0/8");
    }
    p.prefix = std::stoi(bits);
    return p;
  }
  if (int family = ParseAddress(t, p.addr)) {
    p.kind = Pattern::kRange;
    p.family = family;
    p.prefix = family == AF_INET ? 32 : 128;
    return p;
  }
  if (t.starts_with("*.")) {
    if (!ValidHostPattern(t.substr(2))) {
      return InvalidArgument("URL host pattern " + Quote(text) + " is not '*.' followed by a host name");
    }
    p.kind = Pattern::kSuffix;
    p.name = t.substr(1);
    return p;
  }
  if (!ValidHostPattern(t)) {
    return InvalidArgument("URL host pattern " + Quote(text) +
                           " is not a host name, '*.domain', '*', an address or an address range");
  }
  p.kind = Pattern::kName;
  p.name = t;
  return p;
}

Result<UrlPolicy> UrlPolicy::Make(const std::vector<std::string>& allow,
                                  const std::vector<std::string>& deny) {
  UrlPolicy policy;
  for (const auto& a : allow) {
    auto p = ParsePattern(a);
    if (!p) return p.error().UnderField("--allow-url-host");
    policy.allow_.push_back(*p);
  }
  for (const auto& d : deny) {
    auto p = ParsePattern(d);
    if (!p) return p.error().UnderField("--deny-url-host");
    policy.deny_.push_back(*p);
  }
  return policy;
}

bool UrlPolicy::MatchesName(const Pattern& p, std::string_view host) {
  switch (p.kind) {
    case Pattern::kAny: return true;
    case Pattern::kName: return host == p.name;
    case Pattern::kSuffix: return host.size() > p.name.size() && host.ends_with(p.name);
    case Pattern::kRange: return MatchesAddress(p, host);
  }
  return false;
}

bool UrlPolicy::MatchesAddress(const Pattern& p, std::string_view address) {
  if (p.kind == Pattern::kAny) return true;
  if (p.kind != Pattern::kRange) return false;
  unsigned char a[16] = {};
  if (ParseAddress(address, a) != p.family) return false;
  int full = p.prefix / 8, rest = p.prefix % 8;
  if (std::memcmp(a, p.addr, static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[full] & mask) == (p.addr[full] & mask);
}

Result<std::string> UrlPolicy::HostOf(std::string_view url) {
  std::unique_ptr<CURLU, CurlUrlFree> u(curl_url());
  if (!u) return Internal("out of memory parsing a URL");
  std::string text(url);
  if (curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    return InvalidArgument("URL " + Quote(url.substr(0, 200)) + " is malformed");
  }
  char* scheme = nullptr;
  char* host = nullptr;
  curl_url_get(u.get(), CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(u.get(), CURLUPART_HOST, &host, 0);
  std::string s = scheme ? ToLower(scheme) : "", h = host ? ToLower(host) : "";
  curl_free(scheme);
  curl_free(host);
  if (s != "http" && s != "https") {
    return InvalidArgument("URL " + Quote(url.substr(0, 200)) + " is not http:// or https://");
  }
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) return InvalidArgument("URL " + Quote(url.substr(0, 200)) + " has no host");
  return h;
}

Status UrlPolicy::CheckUrl(std::string_view url, bool* by_name) const {
  LOTE_ASSIGN_OR_RETURN(std::string host, HostOf(url));
  for (const auto& p : deny_) {
    if (MatchesName(p, host)) {
      return InvalidArgument("URL host " + Quote(host) + " is denied by this server (--deny-url-host " +
                             Quote(p.text) + ")");
    }
  }
  bool named = false;
  bool ranges = false;
  for (const auto& p : allow_) {
    named |= MatchesName(p, host);
    ranges |= p.kind == Pattern::kRange;
  }
  if (by_name) *by_name = allow_.empty() || named;
  if (!allow_.empty() && !named && !ranges) {
    return InvalidArgument("URL host " + Quote(host) + " is not one this server may fetch from "
                           "(--allow-url-host lists the hosts)");
  }
  return {};
}

Status UrlPolicy::CheckAddress(std::string_view address, bool allowed_by_name) const {
  for (const auto& p : deny_) {
    if (p.kind == Pattern::kRange && MatchesAddress(p, address)) {
      return InvalidArgument("URL address " + Quote(address) + " is denied by this server (--deny-url-host " +
                             Quote(p.text) + ")");
    }
  }
  if (allow_.empty() || allowed_by_name) return {};
  for (const auto& p : allow_) {
    if (MatchesAddress(p, address)) return {};
  }
  return InvalidArgument("URL address " + Quote(address) + " is not one this server may fetch from "
                         "(--allow-url-host lists the hosts)");
}

}  // namespace lote::storage
