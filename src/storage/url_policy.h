// Which hosts the server may fetch http(s) inputs from: `lote serve
// --allow-url-host PATTERN` (repeatable; when given, only those) and
// `--deny-url-host PATTERN` (repeatable; wins over allow). Without either,
// any host may be fetched, as before.
//
// A pattern is one of
//   example.com         that host name (case-insensitive)
//   *.example.com       any host name below example.com (not example.com itself)
//   *                   any host
//   192.0.2.7, ::1      that address
//   10.0.0.0/8, fd00::/8  any address in the range
// Names are checked against the URL's host before connecting; addresses
// against the URL's host when it is a literal, and against the address
// actually connected to (after DNS), so a denied range cannot be reached
// through a name that resolves into it. Every redirect is checked again.
// Immutable after Make; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lote::storage {

class UrlPolicy {
 public:
  UrlPolicy() = default;  // allows every host
  // InvalidArgument naming a malformed pattern.
  static Result<UrlPolicy> Make(const std::vector<std::string>& allow,
                                const std::vector<std::string>& deny);

  bool restricts() const { return !allow_.empty() || !deny_.empty(); }

  // The URL is http:// or https:// with a host this policy lets through by
  // name. *by_name says whether an allow pattern matched the name (when
  // false under an allow list, CheckAddress must match an allowed range).
  // InvalidArgument naming the host and the pattern that refused it.
  Status CheckUrl(std::string_view url, bool* by_name = nullptr) const;
  // The address connected to for that URL.
  Status CheckAddress(std::string_view address, bool allowed_by_name) const;

  // The host of an http(s) URL, lower-case, without brackets or port.
  static Result<std::string> HostOf(std::string_view url);

 private:
  struct Pattern {
    std::string text;
    enum Kind { kAny, kName, kSuffix, kRange } kind = kAny;
    std::string name;           // kName: the host; kSuffix: ".example.com"
    int family = 0;             // kRange: AF_INET or AF_INET6
    unsigned char addr[16] = {};
    int prefix = 0;
  };
  static Result<Pattern> ParsePattern(const std::string& text);
  static bool MatchesName(const Pattern& p, std::string_view host);
  static bool MatchesAddress(const Pattern& p, std::string_view address);

  std::vector<Pattern> allow_;
  std::vector<Pattern> deny_;
};

}  // namespace lote::storage
