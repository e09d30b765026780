#include "jobs/job_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "common/util.h"

namespace lote::jobs {

namespace fs = std::filesystem;

fs::path JobDir::part(int64_t task) const {
  char name[32];
  std::snprintf(name, sizeof name, "%010lld.rows", static_cast<long long>(task));
  return results() / name;
}

fs::path JobDir::header(int64_t task) const {
  char name[32];
  std::snprintf(name, sizeof name, "%010lld.header", static_cast<long long>(task));
  return results() / name;
}

Status JobDir::Create() const {
  std::error_code ec;
  for (const fs::path& p : {logs() / "sys" / "job_report", results(), staging(), logs() / "user"}) {
    fs::create_directories(p, ec);
    if (ec) return IoError("cannot create '" + p.string() + "': " + ec.message());
  }
  return {};
}

void AppendEvent(const JobDir& dir, const std::string& line) {
  static std::mutex mu;  // lines of concurrent writers never interleave
  std::lock_guard lock(mu);
  std::string text = NowRfc3339() + " " + line + "\n";
  int fd = ::open(dir.events().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  bool ok = fd >= 0;
  if (ok) {
    ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    int err = errno;
    ::close(fd);
    errno = err;
  }
  if (!ok) {
    std::fprintf(stderr, "lote: cannot append to '%s': %s; the line was: %s", dir.events().c_str(),
                 std::strerror(errno), text.c_str());
  }
}

Status SyncPath(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open '" + path.string() + "' to sync it: " + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("cannot sync '" + path.string() + "' to disk: " + std::strerror(err));
  return {};
}

Status SyncFilesystem(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open '" + path.string() + "' to sync it: " + std::strerror(errno));
  int rc = ::syncfs(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("cannot sync the filesystem of '" + path.string() + "' to disk: " + std::strerror(err));
  return {};
}

}  // namespace lote::jobs
