// What a handler answers: a status, headers and one kind of body.
//
// The body is a string (JSON answers), an open file streamed from the kernel
// (downloads; the Response owns the descriptor and the server closes it), or a
// provider called for each piece. A Response is move-only because of the file.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"
#include "http/request.h"

namespace lote::http {

using UniqueFd = lote::UniqueFd;

// Writes up to `max` bytes of the body from `offset` into `buf`. Returns the
// number written, 0 at the end of a body of unknown size, or -1 to abort the
// connection (the client sees a short body). Runs on the server's I/O
// thread, so it must not block for long.
using BodyProvider = std::function<ssize_t(uint64_t offset, char* buf, size_t max)>;
inline constexpr uint64_t kUnknownSize = UINT64_MAX;

struct Response {
  enum class Kind { kString, kFile, kProvider };

  int status = 200;
  std::vector<Header> headers;  // Content-Length and Date are the server's
  Kind kind = Kind::kString;
  std::string body;
  UniqueFd file;
  uint64_t file_offset = 0;  // where in the file the body starts
  uint64_t size = 0;  // of the file or the provider's body (kUnknownSize: until it ends)
  BodyProvider provider;
  bool close = false;  // close the connection after this answer

  // Replaces a header of the same name (case-insensitive).
  void SetHeader(std::string_view name, std::string_view value);
  void SetString(int status, std::string body, std::string_view content_type);
  void SetFile(int status, UniqueFd fd, uint64_t size, std::string_view content_type);
  // `length` bytes of the file from `offset` (the caller checked they are there).
  void SetFileRange(int status, UniqueFd fd, uint64_t offset, uint64_t length, std::string_view content_type);
  void SetProvider(int status, BodyProvider provider, uint64_t size, std::string_view content_type);
};

}  // namespace lote::http
