#include "http/response.h"

#include <unistd.h>

namespace lote::http {

void Response::SetHeader(std::string_view name, std::string_view value) {
  for (auto& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) {
      h.value = value;
      return;
    }
  }
  headers.push_back({std::string(name), std::string(value)});
}

void Response::SetString(int s, std::string b, std::string_view content_type) {
  status = s;
  kind = Kind::kString;
  body = std::move(b);
  file = UniqueFd();
  provider = nullptr;
  if (!content_type.empty()) SetHeader("Content-Type", content_type);
}

void Response::SetFile(int s, UniqueFd fd, uint64_t file_size, std::string_view content_type) {
  status = s;
  kind = Kind::kFile;
  body.clear();
  file = std::move(fd);
  file_offset = 0;
  size = file_size;
  provider = nullptr;
  if (!content_type.empty()) SetHeader("Content-Type", content_type);
}

void Response::SetFileRange(int s, UniqueFd fd, uint64_t offset, uint64_t length, std::string_view content_type) {
  SetFile(s, std::move(fd), length, content_type);
  file_offset = offset;
}

void Response::SetProvider(int s, BodyProvider p, uint64_t body_size, std::string_view content_type) {
  status = s;
  kind = Kind::kProvider;
  body.clear();
  file = UniqueFd();
  provider = std::move(p);
  size = body_size;
  if (!content_type.empty()) SetHeader("Content-Type", content_type);
}

}  // namespace lote::http
