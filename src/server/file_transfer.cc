#include "server/file_transfer.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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
  FileSink(fs::path path, fs::path tmp, http::UniqueFd fd, OnStored on_stored)
      : path_(std::move(path)), tmp_(std::move(tmp)), fd_(std::move(fd)), on_stored_(std::move(on_stored)) {}

  ~FileSink() override {
    fd_ = http::UniqueFd();
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
  }

  Status Write(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_.get(), data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return IoError("cannot write '" + path_.filename().string() + "': " + std::strerror(errno));
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
  }

  void Finish(const http::Request& req, http::Response& res) override {
    if (::close(fd_.release()) != 0) {
      return SendError(res, IoError("cannot write '" + path_.filename().string() + "': " + std::strerror(errno)));
    }
    int rc = ::link(tmp_.c_str(), path_.c_str());
    int err = errno;
    ::unlink(tmp_.c_str());
    tmp_.clear();
    if (rc != 0 && err == EEXIST) {
      return SendError(res, AlreadyExists("'" + path_.filename().string() +
                                          "' already exists; uploads never overwrite"));
    }
    if (rc != 0) {
      return SendError(res, IoError("cannot store '" + path_.filename().string() + "': " + std::strerror(err)));
    }
    if (on_stored_) return on_stored_(path_, req, res);
    Reply(res, Status(), 201);
  }

 private:
  fs::path path_;
  fs::path tmp_;
  http::UniqueFd fd_;
  OnStored on_stored_;
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

Result<std::unique_ptr<http::BodySink>> OpenFileSink(const fs::path& path, OnStored on_stored) {
  LOTE_TRY(CheckPathLimits(path.filename().native()));
  LOTE_TRY(CheckFullPath(path));
  std::error_code ec;
  if (fs::exists(path, ec)) {
    return AlreadyExists("'" + path.filename().string() + "' already exists; uploads never overwrite");
  }
  fs::create_directories(path.parent_path(), ec);
  if (ec) return IoError("cannot create folder for '" + path.filename().string() + "': " + ec.message());
  // A short temporary name, so that a name near NAME_MAX still fits.
  fs::path tmp = path.parent_path() / (".lote-upload-" + RandomHex(8));
  http::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return IoError("cannot write '" + path.filename().string() + "': " + std::strerror(errno));
  return std::unique_ptr<http::BodySink>(
      std::make_unique<FileSink>(path, std::move(tmp), std::move(fd), std::move(on_stored)));
}

Status SendFile(http::Response& res, const fs::path& path) {
  LOTE_TRY(CheckPathLimits(path.filename().native()));
  LOTE_TRY(CheckFullPath(path));
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
  http::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd || errno == ENOENT || errno == ENOTDIR) {
      return NotFound("file '" + path.filename().string() + "' not found");
    }
    return IoError("cannot read '" + path.filename().string() + "': " + std::strerror(errno));
  }
  res.SetFile(200, std::move(fd), static_cast<uint64_t>(st.st_size), "application/octet-stream");
  return {};
}

}  // namespace lote::server
