#include "server/file_transfer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>
#include <vector>

#include "common/util.h"

namespace lote::server {

Status ReceiveFile(const httplib::ContentReader& reader, const storage::Beneath& root, std::string_view rel) {
  LOTE_ASSIGN_OR_RETURN(storage::NewFile file, root.CreateNew(rel));
  std::optional<Error> failed;
  bool ok = reader([&](const char* data, size_t len) {
    auto st = file.Write(std::string_view(data, len));
    if (!st) failed = st.error();
    return static_cast<bool>(st);
  });
  if (failed) return *failed;
  if (!ok) return IoError("upload of " + Quote(rel) + " was interrupted");
  return file.Commit();
}

Status SendFile(httplib::Response& res, const storage::Beneath& root, std::string_view rel) {
  LOTE_ASSIGN_OR_RETURN(storage::OpenedFile file, root.OpenRead(rel));
  auto fd = std::make_shared<storage::UniqueFd>(std::move(file.fd));
  res.set_content_provider(
      static_cast<size_t>(file.size), "application/octet-stream",
      [fd](size_t offset, size_t length, httplib::DataSink& sink) {
        std::vector<char> buf(std::min<size_t>(length, 1 << 16));
        ssize_t got;
        do {
          got = ::pread(fd->get(), buf.data(), buf.size(), static_cast<off_t>(offset));
        } while (got < 0 && errno == EINTR);
        if (got <= 0) return false;  // shorter than when it was opened, or unreadable
        return sink.write(buf.data(), static_cast<size_t>(got));
      });
  return {};
}

namespace {
Result<storage::Beneath> ParentOf(const std::filesystem::path& path) {
  return storage::Beneath::Open(path.parent_path(), Quote(path.parent_path().filename().string()));
}
}  // namespace

Status ReceiveFile(const httplib::ContentReader& reader, const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return IoError("cannot create folder for " + Quote(path.filename().string()) + ": " + ec.message());
  LOTE_ASSIGN_OR_RETURN(storage::Beneath parent, ParentOf(path));
  return ReceiveFile(reader, parent, path.filename().string());
}

Status SendFile(httplib::Response& res, const std::filesystem::path& path) {
  auto parent = ParentOf(path);
  if (!parent && parent.error().code() == ErrorCode::kNotFound) {
    return NotFound("file " + Quote(path.filename().string()) + " not found");
  }
  if (!parent) return parent.error();
  return SendFile(res, *parent, path.filename().string());
}

}  // namespace lote::server
