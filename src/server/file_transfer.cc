#include "server/file_transfer.h"

#include <limits.h>

#include "common/util.h"
#include "server/http_util.h"

namespace lote::server {

namespace fs = std::filesystem;

namespace {

std::string Shorten(std::string_view s) {
  return s.size() > 40 ? std::string(s.substr(0, 40)) + "…" : std::string(s);
}

class FileSink final : public http::BodySink {
 public:
  FileSink(storage::NewFile file, OnStored on_stored, OnStoreFailed on_failed, Durability durability)
      : file_(std::move(file)),
        on_stored_(std::move(on_stored)),
        on_failed_(std::move(on_failed)),
        durability_(durability) {}

  Status Write(std::string_view data) override { return Failed(file_.Write(data)); }

  void Finish(const http::Request& req, http::Response& res) override {
    if (Status st = Failed(file_.Commit(durability_)); !st) return SendError(res, st.error());
    if (on_stored_) return on_stored_(file_.resolved(), req, res);
    Reply(res, Status(), 201);
  }

 private:
  Status Failed(Status st) {
    if (!st && st.error().code() == ErrorCode::kIo && on_failed_) on_failed_(st.error());
    return st;
  }

  storage::NewFile file_;  // dropped uncommitted, its temporary file is removed
  OnStored on_stored_;
  OnStoreFailed on_failed_;
  Durability durability_;
};

// The full path on the server's disk (named by its file name only: errors
// never show where the server keeps its files).
Status CheckFullPath(const fs::path& path) {
  size_t n = path.native().size();
  if (n < PATH_MAX) return {};
  return InvalidArgument("the path of '" + Shorten(path.filename().string()) + "' on the server would be " +
                         std::to_string(n) + " bytes long, over the limit of " + std::to_string(PATH_MAX - 1) +
                         " (PATH_MAX)");
}

Result<storage::Beneath> ParentOf(const fs::path& path) {
  return storage::Beneath::Open(path.parent_path(), Quote(path.parent_path().filename().string()));
}

}  // namespace

Status CheckPathLimits(std::string_view rel) {
  if (rel.size() >= PATH_MAX) {
    return InvalidArgument("path '" + Shorten(rel) + "' is " + std::to_string(rel.size()) +
                           " bytes long, over the limit of " + std::to_string(PATH_MAX - 1) + " (PATH_MAX)");
  }
  size_t start = 0;
  while (start <= rel.size()) {
    size_t slash = rel.find('/', start);
    std::string_view part = rel.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.size() > NAME_MAX) {
      return InvalidArgument("file name '" + Shorten(part) + "' is " + std::to_string(part.size()) +
                             " bytes long, over the limit of " + std::to_string(NAME_MAX) + " (NAME_MAX)");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return {};
}

Result<std::unique_ptr<http::BodySink>> OpenFileSink(const storage::Beneath& root, std::string_view rel,
                                                     OnStored on_stored, OnStoreFailed on_failed,
                                                     Durability durability) {
  LOTE_TRY(CheckPathLimits(rel));
  LOTE_TRY(CheckFullPath(root.root() / rel));
  auto file = root.CreateNew(rel);
  if (!file) {
    if (file.error().code() == ErrorCode::kIo && on_failed) on_failed(file.error());
    return file.error();
  }
  return std::unique_ptr<http::BodySink>(
      std::make_unique<FileSink>(std::move(*file), std::move(on_stored), std::move(on_failed), durability));
}

Status SendFile(http::Response& res, const storage::Beneath& root, std::string_view rel) {
  LOTE_TRY(CheckPathLimits(rel));
  LOTE_ASSIGN_OR_RETURN(storage::OpenedFile file, root.OpenRead(rel));
  res.SetFile(200, std::move(file.fd), file.size, "application/octet-stream");
  return {};
}

Result<std::unique_ptr<http::BodySink>> OpenFileSink(const fs::path& path, OnStored on_stored,
                                                     OnStoreFailed on_failed, Durability durability) {
  LOTE_TRY(CheckPathLimits(path.filename().native()));
  LOTE_TRY(CheckFullPath(path));
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return IoError("cannot create folder for " + Quote(path.filename().string()) + ": " + ec.message());
  LOTE_ASSIGN_OR_RETURN(storage::Beneath parent, ParentOf(path));
  return OpenFileSink(parent, path.filename().native(), std::move(on_stored), std::move(on_failed), durability);
}

Status SendFile(http::Response& res, const fs::path& path) {
  LOTE_TRY(CheckPathLimits(path.filename().native()));
  LOTE_TRY(CheckFullPath(path));
  auto parent = ParentOf(path);
  if (!parent && parent.error().code() == ErrorCode::kNotFound) {
    return NotFound("file " + Quote(path.filename().string()) + " not found");
  }
  if (!parent) return parent.error();
  return SendFile(res, *parent, path.filename().native());
}

}  // namespace lote::server
