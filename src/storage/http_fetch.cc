#include "storage/http_fetch.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <set>

#include "common/util.h"

namespace lote::storage {

namespace {

using Clock = std::chrono::steady_clock;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Easy {
  CURL* h;
  Easy() : h(curl_easy_init()) {}
  ~Easy() { curl_easy_cleanup(h); }
  Easy(const Easy&) = delete;
  Easy& operator=(const Easy&) = delete;
};

// Where the body of a 2xx answer goes; false stops the transfer.
using Sink = std::function<bool(const char* data, size_t len)>;

// What one transfer's callbacks share.
struct Transfer {
  CURL* h = nullptr;
  const Sink* sink = nullptr;
  uint64_t max_bytes = 0;
  uint64_t bytes = 0;
  bool over_cap = false;
  bool sink_failed = false;
  const UrlPolicy* policy = nullptr;
  const std::function<bool()>* canceled = nullptr;
  bool was_canceled = false;
  bool allowed_by_name = true;
  std::optional<Error> refused;  // the address the policy refused
};

size_t OnBody(char* p, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  t->bytes += len;
  if (t->bytes > t->max_bytes) {
    t->over_cap = true;
    return 0;  // ends the transfer with CURLE_WRITE_ERROR
  }
  long code = 0;
  curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &code);
  if (code < 200 || code >= 300) return len;  // a redirect's or an error's body: counted, dropped
  if (t->sink && !(*t->sink)(p, len)) {
    t->sink_failed = true;
    return 0;
  }
  return len;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->canceled && *t->canceled && (*t->canceled)()) {
    t->was_canceled = true;
    return 1;  // ends the transfer with CURLE_ABORTED_BY_CALLBACK
  }
  return 0;
}

// Called once connected, before the request is sent: the address is known.
int OnConnected(void* user, char* primary_ip, char*, int, int) {
  auto* t = static_cast<Transfer*>(user);
  if (auto st = t->policy->CheckAddress(primary_ip ? primary_ip : "", t->allowed_by_name); !st) {
    t->refused = st.error();
    return CURL_PREREQFUNC_ABORT;
  }
  return CURL_PREREQFUNC_OK;
}

std::string Seconds(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(ms) / 1000.0);
  return buf;
}

// One request, following redirects itself so each hop is checked. `head`:
// HEAD instead of GET; `range`: a Range header value or "".
Status Fetch(const std::string& url, const UrlFetchOptions& o, const Sink* sink, uint64_t max_bytes,
             bool head, const char* range, Clock::time_point deadline, const std::string& what) {
  GlobalInit();
  const UrlLimits& l = o.limits;
  std::string current = url;
  for (int hop = 0; hop <= l.max_redirects; ++hop) {
    Transfer t;
    LOTE_TRY(o.policy.CheckUrl(current, &t.allowed_by_name));
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      return Error(ErrorCode::kUnavailable, what + " did not answer within " + Seconds(l.total_timeout_ms));
    }
    Easy e;
    if (!e.h) return Internal("cannot start a transfer for " + what);
    t.h = e.h;
    t.sink = sink;
    t.max_bytes = max_bytes;
    t.policy = &o.policy;
    curl_easy_setopt(e.h, CURLOPT_URL, current.c_str());
    curl_easy_setopt(e.h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e.h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e.h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e.h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<int64_t>(l.connect_timeout_ms, left)));
    curl_easy_setopt(e.h, CURLOPT_TIMEOUT_MS, static_cast<long>(left));
    if (l.low_speed_bytes_per_s > 0 && l.low_speed_time_s > 0) {
      curl_easy_setopt(e.h, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(l.low_speed_bytes_per_s));
      curl_easy_setopt(e.h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(l.low_speed_time_s));
    }
    curl_easy_setopt(e.h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_bytes));
    curl_easy_setopt(e.h, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(e.h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e.h, CURLOPT_PREREQFUNCTION, OnConnected);
    curl_easy_setopt(e.h, CURLOPT_PREREQDATA, &t);
    if (o.canceled) {
      t.canceled = &o.canceled;
      curl_easy_setopt(e.h, CURLOPT_XFERINFOFUNCTION, OnProgress);
      curl_easy_setopt(e.h, CURLOPT_XFERINFODATA, &t);
      curl_easy_setopt(e.h, CURLOPT_NOPROGRESS, 0L);
    }
    if (head) curl_easy_setopt(e.h, CURLOPT_NOBODY, 1L);
    if (range && *range) curl_easy_setopt(e.h, CURLOPT_RANGE, range);
    CURLcode rc = curl_easy_perform(e.h);
    if (t.refused) return *t.refused;
    if (t.was_canceled) return FailedPrecondition("fetching " + what + " was canceled");
    if (t.over_cap || rc == CURLE_FILESIZE_EXCEEDED) {
      return InvalidArgument(what + " is over the " + std::to_string(max_bytes) + "-byte limit");
    }
    if (t.sink_failed) return IoError("cannot store " + what);
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      bool speed_limited = l.low_speed_bytes_per_s > 0 &&
                             Clock::now() < deadline - std::chrono::milliseconds(500);
      if (speed_limited) {
        return Error(ErrorCode::kUnavailable, what + " sent less than " + std::to_string(l.low_speed_bytes_per_s) +
                                                  " bytes/s for " + std::to_string(l.low_speed_time_s) + " s");
      }
      return Error(ErrorCode::kUnavailable,
                   what + " did not answer within " + Seconds(l.total_timeout_ms) + " (connect, redirects and transfer)");
    }
    if (rc != CURLE_OK) {
      return Error(ErrorCode::kUnavailable, "cannot fetch " + what + ": " + curl_easy_strerror(rc));
    }
    long code = 0;
    curl_easy_getinfo(e.h, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 300 && code < 400) {
      char* location = nullptr;
      curl_easy_getinfo(e.h, CURLINFO_REDIRECT_URL, &location);
      if (location == nullptr) {
        return IoError(what + " answered HTTP " + std::to_string(code) + " without a Location");
      }
      std::string next = location;
      // Only http and https, on every hop (a redirect to file:// or gopher:// is refused).
      if (!next.starts_with("http://") && !next.starts_with("https://")) {
        return InvalidArgument(what + " redirects to " + Quote(next.substr(0, 200)) +
                               ", which is not http:// or https://");
      }
      current = next;
      continue;
    }
    if (code == 404 || code == 410) {
      return NotFound(what + " does not exist (HTTP " + std::to_string(code) + ")");
    }
    if (code >= 400 || code < 200) return IoError(what + " answered HTTP " + std::to_string(code));
    return {};
  }
  return InvalidArgument(what + " redirects more than " + std::to_string(l.max_redirects) + " times");
}

Clock::time_point DeadlineFor(const UrlLimits& l) { return Clock::now() + std::chrono::milliseconds(l.total_timeout_ms); }

std::string InputUrl(const std::string& url) { return "input URL " + Quote(url.substr(0, 500)); }

bool IEquals(char a, char b) {
  return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
}

// Position of "href" (any case) at or after `from`, or npos.
size_t FindHref(std::string_view page, size_t from) {
  static constexpr std::string_view kHref = "href";
  while (from + kHref.size() <= page.size()) {
    size_t h = page.find_first_of("hH", from);
    if (h == std::string_view::npos || h + kHref.size() > page.size()) return std::string_view::npos;
    if (std::equal(kHref.begin(), kHref.end(), page.begin() + static_cast<std::ptrdiff_t>(h), IEquals)) return h;
    from = h + 1;
  }
  return std::string_view::npos;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::string Resolve(const std::string& base, const std::string& href) {
  if (href.starts_with("http://") || href.starts_with("https://")) return href;
  size_t scheme = base.find("://");
  if (href.starts_with("//")) return base.substr(0, scheme + 1) + href;
  if (href.starts_with("/")) {
    size_t slash = base.find('/', scheme + 3);
    return base.substr(0, slash) + href;
  }
  std::string rel = href;
  while (rel.starts_with("./")) rel = rel.substr(2);
  return base + rel;
}

}  // namespace

std::string PercentDecode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

Result<std::vector<std::string>> ParseIndexLinks(std::string_view page, const std::string& base_url,
                                                 size_t max_href_bytes) {
  std::set<std::string> files;
  size_t i = 0;
  while ((i = FindHref(page, i)) != std::string_view::npos) {
    size_t j = i + 4;
    // An attribute, not "data-href" or text: preceded by a space (or '<a').
    bool attribute = i > 0 && IsSpace(page[i - 1]);
    while (j < page.size() && IsSpace(page[j])) ++j;
    if (!attribute || j >= page.size() || page[j] != '=') {
      i = j;
      continue;
    }
    ++j;
    while (j < page.size() && IsSpace(page[j])) ++j;
    if (j >= page.size()) break;
    size_t start, end;
    if (page[j] == '"' || page[j] == '\'') {
      start = j + 1;
      end = page.find(page[j], start);
      if (end == std::string_view::npos) end = page.size();  // unterminated: to the end
      i = end + 1;
    } else {
      start = j;
      end = start;
      while (end < page.size() && !IsSpace(page[end]) && page[end] != '>') ++end;
      i = end;
    }
    if (end - start > max_href_bytes) {
      return InvalidArgument("the index page of " + Quote(base_url.substr(0, 500)) + " holds a link of " +
                             std::to_string(end - start) + " bytes, over the " + std::to_string(max_href_bytes) +
                             "-byte limit");
    }
    std::string href(page.substr(start, end - start));
    while (!href.empty() && IsSpace(href.back())) href.pop_back();
    // Query strings and anchors are sort links and fragments, not files.
    if (href.empty() || href.find_first_of("?#") != std::string::npos || href.ends_with("/") ||
        href.starts_with("..")) {
      continue;
    }
    std::string abs = Resolve(base_url, href);
    if (!abs.starts_with(base_url)) continue;  // only files inside this folder
    std::string_view name = std::string_view(abs).substr(base_url.size());
    if (name.empty() || name.find('/') != std::string_view::npos) continue;  // one level deep
    // Decoded as the server will decode it (and as the planner names the
    // download): "%2e" is the folder itself, "%2e%2e" its parent, "a%2Fb" a
    // sub-folder's file; none is a file of this folder.
    const std::string decoded = PercentDecode(name);
    if (decoded == "." || decoded == ".." || decoded.find_first_of(std::string_view("/\0", 2)) != std::string::npos) {
      continue;
    }
    files.insert(abs);
  }
  return std::vector<std::string>(files.begin(), files.end());
}

Status CheckUrl(const std::string& url, const UrlFetchOptions& options) {
  const auto deadline = DeadlineFor(options.limits);
  const std::string what = InputUrl(url);
  // A HEAD needs no body; the one-byte GET fallback is capped like a page.
  auto st = Fetch(url, options, nullptr, options.limits.max_index_bytes, /*head=*/true, nullptr, deadline, what);
  if (st || st.error().code() != ErrorCode::kIo) return st;
  // Some servers refuse HEAD.
  return Fetch(url, options, nullptr, options.limits.max_index_bytes, /*head=*/false, "0-0", deadline, what);
}

Status DownloadUrl(const std::string& url, const std::filesystem::path& dest, const UrlFetchOptions& options) {
  std::filesystem::path tmp = dest;
  tmp += ".part-" + RandomHex(4);
  Status st;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return IoError("cannot write " + Quote(tmp.string()));
    Sink sink = [&out](const char* p, size_t n) {
      out.write(p, static_cast<std::streamsize>(n));
      return static_cast<bool>(out);
    };
    st = Fetch(url, options, &sink, options.limits.max_file_bytes, false, nullptr, DeadlineFor(options.limits),
               InputUrl(url));
    out.close();
    if (st && !out) st = IoError("cannot write " + Quote(tmp.string()));
  }
  std::error_code ec;
  if (!st) {
    std::filesystem::remove(tmp, ec);
    return st;
  }
  std::filesystem::rename(tmp, dest, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return IoError("cannot store download of " + Quote(url) + ": " + ec.message());
  }
  return {};
}

Result<std::vector<std::string>> ListUrlFolder(const std::string& url, const UrlFetchOptions& options) {
  if (!url.ends_with("/")) {
    LOTE_TRY(options.policy.CheckUrl(url));
    return std::vector<std::string>{url};
  }
  std::string page;
  Sink sink = [&page](const char* p, size_t n) {
    page.append(p, n);
    return true;
  };
  LOTE_TRY(Fetch(url, options, &sink, options.limits.max_index_bytes, false, nullptr, DeadlineFor(options.limits),
                 "the index page " + Quote(url.substr(0, 500))));
  LOTE_ASSIGN_OR_RETURN(auto files, ParseIndexLinks(page, url, options.limits.max_href_bytes));
  if (files.empty()) return NotFound("the folder URL " + Quote(url) + " lists no files");
  return files;
}

}  // namespace lote::storage
