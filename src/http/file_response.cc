#include "http/file_response.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace lote::http {

namespace {

constexpr size_t kPieceBytes = 256 << 10;

struct FileBody {
  UniqueFd fd;
  uint64_t start = 0;  // the body's first byte in the file
  uint64_t size = 0;
  SuspendedRunner run;
  std::function<void(std::string_view)> log;
  std::vector<char> buf;
  uint64_t buf_offset = 0;  // of buf[0] in the file
  size_t buf_len = 0;
  bool failed = false;

  // On the pool, while the connection is suspended (MHD does not call Read).
  void Fill(uint64_t offset) noexcept {
    try {
      if (buf.empty()) buf.resize(kPieceBytes);
      size_t want = static_cast<size_t>(std::min<uint64_t>(kPieceBytes, size - offset));
      ssize_t n;
      do {
        n = ::pread(fd.get(), buf.data(), want, static_cast<off_t>(start + offset));
      } while (n < 0 && errno == EINTR);
      if (n <= 0) {
        failed = true;
        log(n < 0 ? "http: reading a file for an answer failed: " + std::string(std::strerror(errno))
                  : "http: a file ended before its announced size (changed while being sent)");
        return;
      }
      buf_offset = offset;
      buf_len = static_cast<size_t>(n);
    } catch (...) {  // the buffer could not be allocated
      failed = true;
    }
  }

  // On the I/O thread: bytes at `pos`, or 0 after handing a read to the pool.
  ssize_t Read(uint64_t pos, char* out, size_t max) {
    if (failed || pos >= size) return MHD_CONTENT_READER_END_WITH_ERROR;
    if (pos >= buf_offset && pos < buf_offset + buf_len) {
      size_t n = std::min<size_t>(max, static_cast<size_t>(buf_offset + buf_len - pos));
      std::memcpy(out, buf.data() + (pos - buf_offset), n);
      return static_cast<ssize_t>(n);
    }
    if (!run([this, pos] { Fill(pos); })) return MHD_CONTENT_READER_END_WITH_ERROR;  // stopping
    return 0;  // suspended: MHD asks again once the piece is read
  }
};

}  // namespace

MHD_Response* FileResponse(UniqueFd fd, uint64_t offset, uint64_t size, SuspendedRunner run,
                           std::function<void(std::string_view)> log) {
  auto* body = new FileBody();
  body->fd = std::move(fd);
  body->start = offset;
  body->size = size;
  body->run = std::move(run);
  body->log = std::move(log);
  MHD_Response* r = MHD_create_response_from_callback(
      size, 64 << 10,
      [](void* cls, uint64_t pos, char* out, size_t max) -> ssize_t {
        try {
          return static_cast<FileBody*>(cls)->Read(pos, out, max);
        } catch (...) {
          return MHD_CONTENT_READER_END_WITH_ERROR;
        }
      },
      body, [](void* cls) { delete static_cast<FileBody*>(cls); });
  if (r == nullptr) delete body;
  return r;
}

}  // namespace lote::http
