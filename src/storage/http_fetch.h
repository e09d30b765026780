// Fetching http(s) inputs with libcurl: a file, or a folder whose index page
// (an HTML listing such as nginx's autoindex or `python3 -m http.server`)
// links to its files.
//
// Every fetch is bounded (UrlLimits): a connect timeout, a total deadline
// over all redirects, a low-speed limit, a size cap, a redirect limit; only
// http and https, on every hop, each hop checked against the server's
// UrlPolicy (by host name, and by the address connected to). A remote host
// that accepts and never answers costs at most the deadline. Index pages are
// read with a plain scanner (no regex), with a cap on each link's length.
// Thread-safe; blocking.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/url_policy.h"

namespace lote::storage {

struct UrlLimits {
  int64_t connect_timeout_ms = 3000;
  int64_t total_timeout_ms = 5000;  // all hops together
  // A transfer slower than this many bytes/s for low_speed_time_s is ended
  // (0: no such limit).
  int64_t low_speed_bytes_per_s = 0;
  int64_t low_speed_time_s = 0;
  uint64_t max_file_bytes = 64ull << 30;
  uint64_t max_index_bytes = 4ull << 20;
  size_t max_href_bytes = 4096;
  int max_redirects = 5;

  // For checks while a request waits (invoke): a few seconds in all.
  static UrlLimits ForRequest() { return {}; }
  // For downloads while a job prepares: long, as long as bytes keep coming.
  static UrlLimits ForDownload() {
    UrlLimits l;
    l.connect_timeout_ms = 15'000;
    l.total_timeout_ms = 6 * 3600 * 1000LL;
    l.low_speed_bytes_per_s = 1024;
    l.low_speed_time_s = 60;
    return l;
  }
};

struct UrlFetchOptions {
  UrlPolicy policy;
  UrlLimits limits;
  // Polled while a transfer runs (about once a second, and on every chunk):
  // true ends it at once with FailedPrecondition. Unset: never.
  std::function<bool()> canceled;
};

// "a%20b.txt" -> "a b.txt" (a file name from a URL, for saving it locally).
std::string PercentDecode(std::string_view text);

// Checks that the URL answers 2xx (HEAD, falling back to a one-byte GET).
// NotFound for 404/410; InvalidArgument for a refused host, too many
// redirects or a non-http(s) redirect; Unavailable when unreachable or
// past the deadline.
Status CheckUrl(const std::string& url, const UrlFetchOptions& options = {});

// Downloads url to dest (through a temporary name), within the limits.
Status DownloadUrl(const std::string& url, const std::filesystem::path& dest,
                   const UrlFetchOptions& options = {.policy = {}, .limits = UrlLimits::ForDownload(), .canceled = {}});

// For a URL ending in '/', the absolute URLs of the files its index page
// links to (one level, no parent or sub-folder links), sorted; for any other
// URL, just that URL (not fetched). InvalidArgument when the page is over
// max_index_bytes or holds a link over max_href_bytes.
Result<std::vector<std::string>> ListUrlFolder(const std::string& url, const UrlFetchOptions& options = {});

// The file links of an index page at base_url (ends in '/'): hrefs in
// double, single or no quotes, resolved against base_url, kept when they
// name a file directly inside it: one name that, %-decoded, is not "." or
// ".." and holds no '/' or NUL. Pure; exposed for tests and fuzzing.
Result<std::vector<std::string>> ParseIndexLinks(std::string_view page, const std::string& base_url,
                                                 size_t max_href_bytes);

}  // namespace lote::storage
