#include "jobs/node_logs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/fs_name.h"
#include "common/util.h"
#include "storage/beneath.h"
#include "storage/safe_path.h"

namespace lote::jobs {

namespace {

constexpr std::string_view kAgentFolders[] = {"user/stdout/", "user/error/", "sys/node/"};

Result<storage::Beneath> OpenLogs(const std::filesystem::path& logs_dir) {
  std::error_code ec;
  std::filesystem::create_directories(logs_dir, ec);
  if (ec) return IoError("cannot create the job's logs folder: " + ec.message());
  return storage::Beneath::Open(logs_dir, "the job's logs folder");
}

std::string Shown(std::string_view rel) {
  return Quote(EscapeName(rel));
}

}  // namespace

Status CheckNodeLogPath(std::string_view rel) {
  auto norm = storage::NormalizeRelativePath(rel);
  if (!norm) return norm.error();
  if (*norm != rel)
    return InvalidArgument("log path " + Shown(rel) + " is not in normal form (write " +
                           Shown(*norm) + ")");
  for (std::string_view folder : kAgentFolders) {
    if (rel.starts_with(folder) && rel.size() > folder.size()) return {};
  }
  return InvalidArgument(
      "log path " + Shown(rel) +
      " is not one an agent writes: it must be under user/stdout/, user/error/ or sys/node/");
}

Result<uint64_t> NodeLogSize(const std::filesystem::path& logs_dir, std::string_view rel) {
  LOTE_TRY(CheckNodeLogPath(rel));
  LOTE_ASSIGN_OR_RETURN(storage::Beneath logs, OpenLogs(logs_dir));
  auto info = logs.Stat(rel);
  if (!info && info.error().code() == ErrorCode::kNotFound) return uint64_t{0};
  if (!info) return info.error();
  if (info->type != storage::EntryType::kFile)
    return InvalidArgument("log path " + Shown(rel) + " is not a file");
  return info->size;
}

Result<uint64_t> WriteNodeLog(const std::filesystem::path& logs_dir, std::string_view rel,
                              uint64_t offset, std::string_view data) {
  LOTE_TRY(CheckNodeLogPath(rel));
  if (data.size() > kMaxNodeLogUploadBytes) {
    return Error(
        ErrorCode::kPayloadTooLarge,
        "one log upload carries at most " + std::to_string(kMaxNodeLogUploadBytes) + " bytes");
  }
  LOTE_ASSIGN_OR_RETURN(storage::Beneath logs, OpenLogs(logs_dir));
  const std::string path(rel);
  LOTE_TRY(logs.MakeDirs(path.substr(0, path.rfind('/'))));
  LOTE_ASSIGN_OR_RETURN(UniqueFd fd,
                        logs.OpenNormalized(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return IoError("cannot stat log " + Shown(rel) + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return InvalidArgument("log path " + Shown(rel) + " is not a file");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset > size) {
    return FailedPrecondition("log " + Shown(rel) + " holds " + std::to_string(size) +
                              " bytes; an upload at offset " + std::to_string(offset) +
                              " would leave a gap");
  }
  if (offset + data.size() <= size) return size;  // had them already: a repeated upload
  std::string_view rest = data.substr(static_cast<size_t>(size - offset));
  if (size + rest.size() > kMaxNodeLogBytes) {
    return Error(ErrorCode::kPayloadTooLarge, "log " + Shown(rel) + " would grow past " +
                                                  std::to_string(kMaxNodeLogBytes) +
                                                  " bytes, the most kept");
  }
  uint64_t at = size;
  while (!rest.empty()) {
    ssize_t n = ::pwrite(fd.get(), rest.data(), rest.size(), static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot write log " + Shown(rel) + ": " + std::strerror(errno));
    rest.remove_prefix(static_cast<size_t>(n));
    at += static_cast<uint64_t>(n);
  }
  return at;
}

}  // namespace lote::jobs
