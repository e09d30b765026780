// Files beneath a root folder (a datastore, an upload, a job folder) that can
// never be reached outside it, whatever the folder holds.
//
// Every path is resolved from an open descriptor of the root, one syscall
// per operation: openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS where
// the kernel has it (Linux 5.6+), otherwise a component-by-component walk
// with O_NOFOLLOW that reads each symbolic link itself. Either way:
//   - `..`, absolute paths, NUL, empty names and names over NAME_MAX are
//     refused before any lookup (NormalizeRelativePath);
//   - a symbolic link is followed only while its target stays beneath the
//     root (relative targets, and absolute targets under the root's real
//     path); a link that leads out refuses the whole path with an error that
//     names the link and its target;
//   - magic links (/proc/<pid>/fd/…) are never followed.
// What was opened is what was checked: callers get descriptors, and the
// resolved real path of each file for readers in other processes (agents).
// Those readers open by path, so a datastore changed after the check (a
// folder swapped for a link) is a race this class cannot close for them;
// see SECURITY.md.
//
// Errors: InvalidArgument for a path that is malformed or leads out (HTTP
// 400), NotFound when a component is missing, AlreadyExists from CreateNew,
// Io for other system errors. Messages name the path and `what` (e.g.
// "datastore 'ds'"). Thread-safe: a Beneath is immutable after Open.
#pragma once

#include <functional>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/util.h"
#include "storage/unique_fd.h"

namespace lote::storage {

enum class EntryType { kFile, kDir, kOther };

struct BeneathOptions {
  // Tests turn this off to exercise the fallback walk on any kernel.
  bool use_openat2 = true;
};

struct PathInfo {
  EntryType type = EntryType::kOther;
  uint64_t size = 0;
  std::filesystem::path resolved;  // the real path of what was checked
};

struct OpenedFile {
  UniqueFd fd;  // O_RDONLY, O_CLOEXEC
  uint64_t size = 0;
  std::filesystem::path resolved;
};

// One entry of a folder listing. Names are the bytes on disk (not
// necessarily UTF-8). A link that stays beneath the root is described by
// its target (type, resolved); one that leads out, dangles or loops carries
// `error` instead, and is never opened. No entry is stat'ed unless it is a
// link or the filesystem gives no type (100k entries list in ~0.1 s); Stat
// an entry for its size.
struct DirEntry {
  std::string name;
  EntryType type = EntryType::kOther;
  bool is_link = false;
  // A string, not an fs::path: libstdc++'s path keeps its components too,
  // several times the memory for listings of 100k files.
  std::string resolved;
  std::optional<Error> error;
};

// A file being created exclusively: bytes go to a temporary name in the
// target folder, and Commit() links it into place with link(2), which never
// replaces. Of two racing creators exactly one commits; the other gets
// AlreadyExists. Dropped without Commit(), the temporary file is removed.
class NewFile {
 public:
  NewFile(NewFile&& other) noexcept;
  NewFile& operator=(NewFile&&) = delete;
  NewFile(const NewFile&) = delete;
  ~NewFile();

  Status Write(std::string_view data);
  // fsyncs the file (unless kUnsynced: the caller syncs later, as the job
  // engine does for results), then links it under its final name.
  Status Commit(Durability durability = Durability::kSynced);
  const std::filesystem::path& resolved() const { return resolved_; }

 private:
  friend class Beneath;
  NewFile(UniqueFd dir, UniqueFd file, std::string tmp_name, std::string name,
          std::filesystem::path resolved, std::string display);
  void Discard();

  UniqueFd dir_;
  UniqueFd file_;
  std::string tmp_name_;
  std::string name_;
  std::filesystem::path resolved_;
  std::string display_;  // the file's name, for messages
  bool done_ = false;
};

class Beneath {
 public:
  // root must be an existing folder; links in root's own path are followed
  // (the root is configuration, trusted). `what` names it in messages.
  static Result<Beneath> Open(const std::filesystem::path& root, std::string what,
                              BeneathOptions options = {});

  Beneath(Beneath&&) = default;
  Beneath& operator=(Beneath&&) = default;

  const std::filesystem::path& root() const { return root_; }  // real path
  const std::string& what() const { return what_; }

  // rel: a relative path as a user wrote it ("" or "." is the root itself).
  Result<PathInfo> Stat(std::string_view rel) const;
  // A regular file, opened for reading.
  Result<OpenedFile> OpenRead(std::string_view rel) const;
  // A folder's entries, one level, sorted by name (bytes).
  Result<std::vector<DirEntry>> List(std::string_view rel) const;
  // The same entries, unsorted, one at a time and kept by nobody (a folder of
  // millions costs no memory); stops when `visit` returns false.
  Status ForEach(std::string_view rel, const std::function<bool(DirEntry&&)>& visit) const;
  // Makes the folder and its missing parents (mode 0755); returns its real path.
  Result<std::filesystem::path> MakeDirs(std::string_view rel) const;
  // Starts an exclusive create of rel (parents made). AlreadyExists when rel
  // exists, as a file, a folder or a link.
  Result<NewFile> CreateNew(std::string_view rel) const;

  // Opens rel (already normalized) with open(2) flags beneath the root.
  // Low level; the functions above are built on it.
  Result<UniqueFd> OpenNormalized(const std::string& rel, int flags, mode_t mode = 0) const;

  // Whether this kernel has openat2 (probed once).
  static bool KernelHasOpenat2();

 private:
  Beneath(UniqueFd fd, std::filesystem::path root, std::string what, BeneathOptions options)
      : fd_(std::move(fd)), root_(std::move(root)), what_(std::move(what)), options_(options) {}
  Result<std::string> Normalize(std::string_view rel) const;
  Result<UniqueFd> Walk(const std::string& rel, int flags, mode_t mode) const;
  std::filesystem::path ResolvedPath(int fd, const std::string& rel) const;
  Error ErrnoError(int err, const std::string& rel) const;

  UniqueFd fd_;
  std::filesystem::path root_;
  std::string what_;
  BeneathOptions options_;
};

}  // namespace lote::storage
