// Where the bytes an agent downloads go (blobs, input items): a file it
// creates itself, counted, bounded and optionally hashed as they arrive. A
// download the client retries from its start calls Restart() first, so a
// broken connection never leaves half a body in front of a whole one.
//
// Thread-compatible: one download at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/crypto.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace lote::agent {

class DownloadSink {
 public:
  virtual ~DownloadSink() = default;
  // Forgets what was written: the download starts over.
  virtual Status Restart() = 0;
  virtual Status Write(std::string_view data) = 0;
};

struct FileDownloadOptions {
  std::filesystem::path path;  // created with O_EXCL, mode 0600
  // The body is written from this byte of the file (the bytes before are a
  // hole: a range item keeps its offset in a sparse file).
  uint64_t base = 0;
  // Written at the start of the file before the body (a chunk's header line).
  std::string prefix;
  // More body bytes than this fail the Write (InvalidArgument).
  uint64_t max_bytes = UINT64_MAX;
  bool sha256 = false;  // hash the body
};

class FileDownload final : public DownloadSink {
 public:
  // IoError naming the file when it cannot be created (one that exists is
  // never written through).
  static Result<std::unique_ptr<FileDownload>> Create(FileDownloadOptions options);

  Status Restart() override;
  Status Write(std::string_view data) override;
  // Closes the file; IoError when the last writes did not reach it.
  Status Close();

  uint64_t bytes() const { return bytes_; }                // body bytes written
  bool overflowed() const { return overflowed_; }          // a Write went past max_bytes
  std::string HexDigest() { return hasher_.HexDigest(); }  // of the body; call once
  const std::filesystem::path& path() const { return options_.path; }

 private:
  FileDownload(FileDownloadOptions options, UniqueFd fd)
      : options_(std::move(options)), fd_(std::move(fd)) {}
  Status WriteAt(uint64_t offset, std::string_view data);

  FileDownloadOptions options_;
  UniqueFd fd_;
  uint64_t bytes_ = 0;
  bool overflowed_ = false;
  Sha256Hasher hasher_;
};

}  // namespace lote::agent
