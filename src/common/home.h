// The layout of lote's home directory (LOTE_HOME, default ~/.lote), shared by
// the server that owns it and the CLI that finds a local server through it;
// and the rules that keep one home to one server.
#pragma once

#include <filesystem>
#include <string>

#include "common/status.h"

namespace lote {

struct HomeLayout {
  std::filesystem::path root;

  std::filesystem::path metadata_db() const { return root / "metadata.db"; }
  std::filesystem::path admin_token() const { return root / "admin_token"; }    // 0600
  std::filesystem::path signing_key() const { return root / "signing_key"; }    // 0600
  std::filesystem::path server_info() const { return root / "server.json"; }    // {"url": …}
  std::filesystem::path server_lock() const { return root / "server.lock"; }    // flock'ed, holds the pid
  std::filesystem::path models() const { return root / "models"; }
  std::filesystem::path code() const { return root / "code"; }
  std::filesystem::path staging() const { return root / "staging"; }
  std::filesystem::path datastores() const { return root / "datastores"; }
  std::filesystem::path jobs() const { return root / "jobs"; }
};

// LOTE_HOME when set, else $HOME/.lote.
std::filesystem::path DefaultHomeDir();

// One `lote serve` per home: flock(LOCK_EX | LOCK_NB) on server.lock, held
// while the HomeLock lives (the kernel drops it when the process dies, even
// by SIGKILL). The descriptor is close-on-exec, so agents and workers never
// inherit the lock. Take it before anything in the home is opened.
class HomeLock {
 public:
  // FailedPrecondition when another process holds the home; the message
  // names it (pid and URL from its server.json, or the pid it wrote in the
  // lock file). Io when the lock file cannot be made.
  static Result<HomeLock> Acquire(const HomeLayout& home);

  HomeLock(HomeLock&& other) noexcept;
  HomeLock& operator=(HomeLock&& other) noexcept;
  HomeLock(const HomeLock&) = delete;
  HomeLock& operator=(const HomeLock&) = delete;
  ~HomeLock();

 private:
  explicit HomeLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Refuses to start a metadata store over content it does not describe: a
// metadata.db that is 0 bytes next to existing content (admin_token,
// signing_key, models/, jobs/, code/), one that is missing while models/,
// jobs/ or code/ hold entries (a store deleted or moved away), and a file
// that is not an SQLite database. A fresh home (none of these) passes.
// FailedPrecondition naming the file, what is next to it and what to do.
Status CheckMetadataStoreBelongs(const HomeLayout& home);

}  // namespace lote
