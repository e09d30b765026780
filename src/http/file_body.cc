#include "http/file_body.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <vector>

namespace lote::http {

Result<FileBody> StreamFile(const std::filesystem::path& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return IoError("cannot read '" + path.string() + "': " + ec.message());
  auto in = std::make_shared<std::ifstream>(path, std::ios::binary);
  if (!*in) return IoError("cannot open '" + path.string() + "'");
  FileBody body;
  body.size = static_cast<size_t>(size);
  body.provider = [in](size_t offset, size_t length, httplib::DataSink& sink) {
    std::vector<char> buf(std::min<size_t>(length, 1 << 16));
    in->seekg(static_cast<std::streamoff>(offset));
    in->read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto got = in->gcount();
    if (got <= 0) return false;
    return sink.write(buf.data(), static_cast<size_t>(got));
  };
  return body;
}

}  // namespace lote::http
