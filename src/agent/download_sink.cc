#include "agent/download_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fs_name.h"
#include "common/util.h"

namespace lote::agent {

namespace {

std::string Shown(const std::filesystem::path& p) {
  return Quote(EscapeName(p.string()));
}

}  // namespace

Result<std::unique_ptr<FileDownload>> FileDownload::Create(FileDownloadOptions options) {
  int fd = ::open(options.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot create " + Shown(options.path) + ": " + std::strerror(errno));
  auto out = std::unique_ptr<FileDownload>(new FileDownload(std::move(options), UniqueFd(fd)));
  if (!out->options_.prefix.empty()) LOTE_TRY(out->WriteAt(0, out->options_.prefix));
  return out;
}

Status FileDownload::WriteAt(uint64_t offset, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd_.get(), data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot write " + Shown(options_.path) + ": " + std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return {};
}

Status FileDownload::Restart() {
  const uint64_t keep = options_.prefix.size();
  if (::ftruncate(fd_.get(), static_cast<off_t>(keep)) != 0) {
    return IoError("cannot truncate " + Shown(options_.path) + ": " + std::strerror(errno));
  }
  bytes_ = 0;
  overflowed_ = false;
  hasher_.Reset();
  return {};
}

Status FileDownload::Write(std::string_view data) {
  if (data.size() > options_.max_bytes - bytes_) {
    overflowed_ = true;
    return InvalidArgument("the control plane sent more than the " +
                           std::to_string(options_.max_bytes) + " bytes expected");
  }
  const uint64_t at = (options_.prefix.empty() ? options_.base : options_.prefix.size()) + bytes_;
  LOTE_TRY(WriteAt(at, data));
  if (options_.sha256) hasher_.Update(data);
  bytes_ += data.size();
  return {};
}

Status FileDownload::Close() {
  int fd = fd_.Release();
  if (fd >= 0 && ::close(fd) != 0)
    return IoError("cannot write " + Shown(options_.path) + ": " + std::strerror(errno));
  return {};
}

}  // namespace lote::agent
