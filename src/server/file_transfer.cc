#include "server/file_transfer.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

#include "common/util.h"
#include "http/file_body.h"

namespace lote::server {

namespace fs = std::filesystem;

Status ReceiveFile(const httplib::ContentReader& reader, const fs::path& path) {
  std::error_code ec;
  if (fs::exists(path, ec)) {
    return AlreadyExists("'" + path.filename().string() + "' already exists; uploads never overwrite");
  }
  fs::create_directories(path.parent_path(), ec);
  if (ec) return IoError("cannot create folder for '" + path.filename().string() + "': " + ec.message());
  fs::path tmp = path;
  tmp += ".upload-" + RandomHex(4);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return IoError("cannot write '" + path.filename().string() + "': " + std::strerror(errno));
    bool ok = reader([&](const char* data, size_t len) {
      out.write(data, static_cast<std::streamsize>(len));
      return static_cast<bool>(out);
    });
    out.close();
    if (!ok || !out) {
      fs::remove(tmp, ec);
      return IoError("upload of '" + path.filename().string() + "' was interrupted or could not be written");
    }
  }
  // link() refuses to replace, so of two racing uploads exactly one wins.
  int rc = ::link(tmp.c_str(), path.c_str());
  int err = errno;
  fs::remove(tmp, ec);
  if (rc != 0 && err == EEXIST) {
    return AlreadyExists("'" + path.filename().string() + "' already exists; uploads never overwrite");
  }
  if (rc != 0) return IoError("cannot store '" + path.filename().string() + "': " + std::strerror(err));
  return {};
}

Status SendFile(httplib::Response& res, const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return NotFound("file '" + path.filename().string() + "' not found");
  auto body = http::StreamFile(path);
  if (!body) return IoError("cannot read '" + path.filename().string() + "'");
  res.set_content_provider(body->size, "application/octet-stream", std::move(body->provider));
  return {};
}

}  // namespace lote::server
