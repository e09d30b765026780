#include "jobs/results_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/results_file_name.h"
#include "common/unique_fd.h"
#include "common/util.h"

namespace lote::jobs {

namespace fs = std::filesystem;

namespace {

std::string Errno(int e) { return std::strerror(e); }

const char* KindOf(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a fifo";
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

Result<fs::path> ClaimResultsFile(const fs::path& staging, std::string_view name, uint64_t bytes) {
  if (!IsResultsFileName(name)) {
    return InvalidArgument("the results file's name must be '" + std::string(kResultsFilePrefix) + "' and " +
                               std::to_string(kResultsFileHexDigits) + " lowercase hex digits",
                           "file");
  }
  const std::string what = "results file '" + std::string(name) + "'";
  UniqueFd dir(open(staging.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) {
    int e = errno;
    if (e == ENOENT) return NotFound(what + ": the job has no staging folder '" + staging.string() + "'", "file");
    return IoError("cannot open the staging folder '" + staging.string() + "': " + Errno(e));
  }
  const std::string n(name);
  // O_PATH: nothing is read through it, and opening a fifo or a device this
  // way neither blocks nor has a device's side effects; O_NOFOLLOW with
  // O_PATH opens a symbolic link itself, which fstat then shows.
  UniqueFd file(openat(dir.get(), n.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!file) {
    int e = errno;
    if (e == ENOENT) {
      return NotFound(what + " is not in the job's staging folder '" + staging.string() +
                          "' (an agent on another host, or a file already taken)",
                      "file");
    }
    return IoError("cannot open " + what + " in '" + staging.string() + "': " + Errno(e));
  }
  struct stat st{};
  if (fstat(file.get(), &st) != 0) return IoError("cannot stat " + what + ": " + Errno(errno));
  if (!S_ISREG(st.st_mode)) return InvalidArgument(what + " is " + KindOf(st.st_mode) + ", not a regular file", "file");
  if (st.st_nlink != 1) {
    return InvalidArgument(what + " has " + std::to_string(st.st_nlink) + " links: it must be a file of its own",
                           "file");
  }
  if (st.st_uid != geteuid()) {
    return InvalidArgument(what + " is owned by uid " + std::to_string(st.st_uid) + ", not the server's user",
                           "file");
  }
  if (static_cast<uint64_t>(st.st_size) != bytes) {
    return InvalidArgument(what + " has " + std::to_string(st.st_size) + " bytes, not the " + std::to_string(bytes) +
                               " posted",
                           "bytes");
  }
  // Under a name only the server knows: what is committed is what was checked.
  const std::string claimed = "claimed-" + RandomHex(8);
  if (renameat2(dir.get(), n.c_str(), dir.get(), claimed.c_str(), RENAME_NOREPLACE) != 0) {
    int e = errno;
    if (e == ENOENT) return NotFound(what + " was taken while it was being checked", "file");
    return IoError("cannot claim " + what + " in '" + staging.string() + "': " + Errno(e));
  }
  struct stat now{};
  if (fstatat(dir.get(), claimed.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 || now.st_dev != st.st_dev ||
      now.st_ino != st.st_ino) {
    if (unlinkat(dir.get(), claimed.c_str(), 0) != 0 && errno != ENOENT) {
      return IoError("cannot remove a swapped " + what + " from '" + staging.string() + "': " + Errno(errno));
    }
    return InvalidArgument(what + " was replaced while it was being checked", "file");
  }
  return staging / claimed;
}

}  // namespace lote::jobs
