// Fmt("page {} of {}", a, b): message formatting for src/parquet's errors.
// gcc 12 (Debian 12) has no <format>; each {} takes the next argument as
// operator<< writes it. Internal to src/parquet.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace lote::parquet {

namespace fmt_internal {
inline void Append(std::ostringstream& os, std::string_view& f) {
  os << f;
}
template <class T, class... Rest>
void Append(std::ostringstream& os, std::string_view& f, const T& v, const Rest&... rest) {
  size_t at = f.find("{}");
  if (at == std::string_view::npos) {
    os << f;
    f = {};
    return;
  }
  os << f.substr(0, at);
  if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t>) {
    os << static_cast<int>(v);
  } else {
    os << v;
  }
  f.remove_prefix(at + 2);
  Append(os, f, rest...);
}
}  // namespace fmt_internal

template <class... Args>
std::string Fmt(std::string_view f, const Args&... args) {
  std::ostringstream os;
  fmt_internal::Append(os, f, args...);
  return os.str();
}

}  // namespace lote::parquet

#include "common/status.h"

namespace lote::parquet {

// s, with `context` put before its message when it failed.
inline Status InContext(Status s, std::string_view context) {
  if (!s) return s.error().WithContext(context);
  return s;
}

}  // namespace lote::parquet
