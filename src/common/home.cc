#include "common/home.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace lote {

namespace fs = std::filesystem;

std::filesystem::path DefaultHomeDir() {
  if (const char* h = std::getenv("LOTE_HOME"); h && *h) return h;
  if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".lote";
  return ".lote";
}

namespace {

std::string Slurp(const fs::path& p, size_t max) {
  std::ifstream in(p, std::ios::binary);
  std::string s(max, '\0');
  in.read(s.data(), static_cast<std::streamsize>(max));
  s.resize(static_cast<size_t>(in.gcount()));
  return s;
}

// "pid 123, http://127.0.0.1:8070" from the owner's server.json (or the pid
// it wrote in the lock file before its server.json exists).
std::string DescribeOwner(const HomeLayout& home) {
  std::string pid, url;
  try {
    auto info = nlohmann::json::parse(Slurp(home.server_info(), 64 * 1024));
    if (info.contains("pid") && info["pid"].is_number_integer()) pid = std::to_string(info["pid"].get<int64_t>());
    if (info.contains("url") && info["url"].is_string()) url = info["url"].get<std::string>();
  } catch (const nlohmann::json::exception&) {
    // No or half a server.json: the lock file's pid below.
  }
  if (pid.empty()) {
    std::string text = Slurp(home.server_lock(), 32);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) pid = text;
  }
  std::string who = pid.empty() ? "pid unknown" : "pid " + pid;
  if (!url.empty()) who += ", " + url;
  return who;
}

bool HasEntries(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir, ec) && !fs::is_empty(dir, ec);
}

}  // namespace

Result<HomeLock> HomeLock::Acquire(const HomeLayout& home) {
  int fd = ::open(home.server_lock().c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return IoError("cannot open the lock file '" + home.server_lock().string() + "': " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return FailedPrecondition("home '" + home.root.string() + "' is in use by another lote serve (" +
                                DescribeOwner(home) + "); stop it first, or give this one another --home");
    }
    return IoError("cannot lock '" + home.server_lock().string() + "': " + std::strerror(err));
  }
  // Ours now: record the pid for a second server's message.
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    int err = errno;
    ::close(fd);
    return IoError("cannot write the lock file '" + home.server_lock().string() + "': " + std::strerror(err));
  }
  return HomeLock(fd);
}

HomeLock::HomeLock(HomeLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

HomeLock& HomeLock::operator=(HomeLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

HomeLock::~HomeLock() {
  // Closing the last descriptor releases the lock; the file stays (removing
  // it would race with a server that is opening it).
  if (fd_ >= 0) ::close(fd_);
}

Status CheckMetadataStoreBelongs(const HomeLayout& home) {
  std::error_code ec;
  std::vector<std::string> content;
  for (const fs::path& f : {home.admin_token(), home.signing_key()}) {
    if (fs::exists(f, ec)) content.push_back(f.filename().string());
  }
  bool resources = false;
  for (const fs::path& d : {home.models(), home.jobs(), home.code()}) {
    if (HasEntries(d)) {
      content.push_back(d.filename().string() + "/");
      resources = true;
    }
  }
  std::string next_to;
  for (const auto& c : content) next_to += (next_to.empty() ? "" : ", ") + c;
  const std::string db = home.metadata_db().string();
  const std::string what_to_do =
      "; restore it from a backup, or move the home aside to start a new one (lote will not start an "
      "empty store over existing content)";
  auto st = fs::symlink_status(home.metadata_db(), ec);
  if (ec || !fs::exists(st)) {
    if (!resources) return {};  // a fresh home
    return FailedPrecondition("metadata store '" + db + "' is missing, but home '" + home.root.string() +
                              "' holds " + next_to + what_to_do);
  }
  if (!fs::is_regular_file(st)) {
    return FailedPrecondition("metadata store '" + db + "' is not a regular file");
  }
  uint64_t size = fs::file_size(home.metadata_db(), ec);
  if (ec) return IoError("cannot read metadata store '" + db + "': " + ec.message());
  if (size == 0) {
    if (content.empty()) return {};  // created, never written: still fresh
    return FailedPrecondition("metadata store '" + db + "' is empty (0 bytes), but home '" + home.root.string() +
                              "' holds " + next_to + what_to_do);
  }
  static constexpr char kSqliteMagic[] = "SQLite format 3";  // 16 bytes with its NUL
  std::string head = Slurp(home.metadata_db(), 16);
  if (head.size() < 16 || std::memcmp(head.data(), kSqliteMagic, 16) != 0) {
    return FailedPrecondition("metadata store '" + db + "' is not an SQLite database (it was replaced or "
                              "corrupted)" + what_to_do);
  }
  return {};
}

}  // namespace lote
