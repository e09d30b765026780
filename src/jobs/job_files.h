// Where a job keeps its files under <home>/jobs/<job>/, and its event log
// (what `lote job stream` shows).
#pragma once

#include <filesystem>
#include <string>

#include "common/status.h"

namespace lote::jobs {

struct JobDir {
  std::filesystem::path root;
  std::filesystem::path logs() const { return root / "logs"; }
  std::filesystem::path results() const { return root / "results"; }
  std::filesystem::path staging() const { return root / "staging"; }
  std::filesystem::path input() const { return root / "input"; }
  std::filesystem::path events() const { return logs() / "lote_job.txt"; }
  // The hashed model, code and runner of a remote job (jobs/job_artifacts.h).
  std::filesystem::path artifacts() const { return root / "artifacts.json"; }
  std::filesystem::path part(int64_t task) const;    // committed rows of a mini-batch (legacy layout)
  std::filesystem::path header(int64_t task) const;  // its CSV header, when any (legacy layout)
  Status Create() const;
};

// Appends "<time> <line>\n" to the job's event log. A failure to write (a
// full disk) is reported on the server's stderr, never silently dropped.
void AppendEvent(const JobDir& dir, const std::string& line);

// fsync()s a file or a folder: what a crash or power loss must not undo.
Status SyncPath(const std::filesystem::path& path);
// syncfs()s the filesystem that holds `path`: every file on it at once.
Status SyncFilesystem(const std::filesystem::path& path);

}  // namespace lote::jobs
