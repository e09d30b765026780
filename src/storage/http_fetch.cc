#include "storage/http_fetch.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>

#include "common/util.h"

namespace lote::storage {

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Easy {
  CURL* h;
  Easy() : h(curl_easy_init()) {}
  ~Easy() { curl_easy_cleanup(h); }
};

size_t AppendToString(char* p, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}

size_t WriteToFile(char* p, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::ofstream*>(user);
  out->write(p, static_cast<std::streamsize>(size * n));
  return *out ? size * n : 0;
}

Status Perform(Easy& e, const std::string& url) {
  curl_easy_setopt(e.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e.h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e.h, CURLOPT_CONNECTTIMEOUT, 15L);
  curl_easy_setopt(e.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e.h, CURLOPT_PROTOCOLS_STR, "http,https");
  CURLcode rc = curl_easy_perform(e.h);
  if (rc != CURLE_OK) {
    return Error(ErrorCode::kUnavailable, "cannot fetch '" + url + "': " + curl_easy_strerror(rc));
  }
  long code = 0;
  curl_easy_getinfo(e.h, CURLINFO_RESPONSE_CODE, &code);
  if (code == 404 || code == 410) return NotFound("input URL '" + url + "' does not exist (HTTP " + std::to_string(code) + ")");
  if (code >= 400) return IoError("input URL '" + url + "' answered HTTP " + std::to_string(code));
  return {};
}

std::string Resolve(const std::string& base, const std::string& href) {
  if (href.starts_with("http://") || href.starts_with("https://")) return href;
  if (href.starts_with("/")) {
    size_t scheme = base.find("://");
    size_t slash = base.find('/', scheme + 3);
    return base.substr(0, slash) + href;
  }
  return base + href;
}

}  // namespace

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

Status CheckUrl(const std::string& url) {
  GlobalInit();
  Easy e;
  curl_easy_setopt(e.h, CURLOPT_NOBODY, 1L);
  auto st = Perform(e, url);
  if (st || st.error().code() != ErrorCode::kIo) return st;
  Easy g;  // some servers refuse HEAD
  std::string sink;
  curl_easy_setopt(g.h, CURLOPT_WRITEFUNCTION, AppendToString);
  curl_easy_setopt(g.h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(g.h, CURLOPT_RANGE, "0-0");
  return Perform(g, url);
}

Status DownloadUrl(const std::string& url, const std::filesystem::path& dest) {
  GlobalInit();
  std::filesystem::path tmp = dest;
  tmp += ".part-" + RandomHex(4);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return IoError("cannot write '" + tmp.string() + "'");
    Easy e;
    curl_easy_setopt(e.h, CURLOPT_WRITEFUNCTION, WriteToFile);
    curl_easy_setopt(e.h, CURLOPT_WRITEDATA, &out);
    Status st = Perform(e, url);
    if (!st) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      return st;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, dest, ec);
  if (ec) return IoError("cannot store download of '" + url + "': " + ec.message());
  return {};
}

Result<std::vector<std::string>> ListUrlFolder(const std::string& url) {
  if (!url.ends_with("/")) return std::vector<std::string>{url};
  GlobalInit();
  std::string page;
  Easy e;
  curl_easy_setopt(e.h, CURLOPT_WRITEFUNCTION, AppendToString);
  curl_easy_setopt(e.h, CURLOPT_WRITEDATA, &page);
  LOTE_TRY(Perform(e, url));
  static const std::regex kHref(R"(href\s*=\s*["']([^"'#?]+)["'])", std::regex::icase);
  std::set<std::string> files;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), kHref); it != std::sregex_iterator(); ++it) {
    std::string href = (*it)[1];
    if (href.empty() || href.ends_with("/") || href.starts_with("..")) continue;
    std::string abs = Resolve(url, href);
    if (!abs.starts_with(url)) continue;  // only files inside this folder
    if (abs.substr(url.size()).find('/') != std::string::npos) continue;  // one level deep
    files.insert(abs);
  }
  if (files.empty()) return NotFound("the folder URL '" + url + "' lists no files");
  return std::vector<std::string>(files.begin(), files.end());
}

}  // namespace lote::storage
