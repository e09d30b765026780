#include "common/fs_name.h"

#include <cstdint>

#include "common/crypto.h"
#include "common/util.h"

namespace lote {

namespace {

// The length of the well-formed UTF-8 sequence at s[i], or 0 when the byte
// there does not start one (the table of RFC 3629 §4).
size_t SequenceAt(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

bool IsUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = SequenceAt(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string EscapeName(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = SequenceAt(s, i);
    if (n > 0) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    const auto b = static_cast<uint8_t>(s[i++]);
    out += "\\x";
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

void SetBytesField(nlohmann::json& obj, std::string_view key, std::string_view raw) {
  const std::string k(key), k_b64 = k + "_b64";
  if (IsUtf8(raw)) {
    obj[k] = std::string(raw);
    obj.erase(k_b64);
  } else {
    obj[k] = EscapeName(raw);
    obj[k_b64] = Base64UrlEncode(raw);
  }
}

Result<std::optional<std::string>> GetBytesField(const nlohmann::json& obj, std::string_view key) {
  if (!obj.is_object()) return InvalidArgument("not a JSON object");
  const std::string k(key), k_b64 = k + "_b64";
  auto text = obj.find(k);
  if (text != obj.end() && !text->is_null() && !text->is_string()) {
    return InvalidArgument("\"" + k + "\" must be a string");
  }
  auto bytes = obj.find(k_b64);
  if (bytes == obj.end() || bytes->is_null()) {
    if (text == obj.end() || text->is_null()) return std::optional<std::string>();
    return std::optional<std::string>(text->get<std::string>());
  }
  if (!bytes->is_string()) return InvalidArgument("\"" + k_b64 + "\" must be a string");
  const std::string& encoded = bytes->get_ref<const std::string&>();
  auto raw = Base64UrlDecode(encoded);
  // Canonical only: one value, one spelling (no padding, no stray bits).
  if (!raw || Base64UrlEncode(*raw) != encoded) {
    return InvalidArgument("\"" + k_b64 + "\" is not base64url without padding");
  }
  return std::optional<std::string>(std::move(*raw));
}

nlohmann::json PathItem(std::string_view raw_path) {
  nlohmann::json item = nlohmann::json::object();
  SetItemPath(item, raw_path);
  return item;
}

void SetItemPath(nlohmann::json& item, std::string_view raw_path) {
  SetBytesField(item, kItemPathKey, raw_path);
}

Result<std::string> ItemPath(const nlohmann::json& item) {
  if (!item.is_object()) return InvalidArgument("an item must be an object with a \"path\"");
  auto path = GetBytesField(item, kItemPathKey);
  if (!path) return path.error().WithContext("item " + Quote(ItemDisplayPath(item)));
  if (!*path || (*path)->empty()) return InvalidArgument("an item must have a non-empty \"path\"");
  if ((*path)->find('\0') != std::string::npos) {
    return InvalidArgument("item " + Quote(ItemDisplayPath(item)) +
                           ": its path holds a NUL byte, which no file name can");
  }
  return std::move(**path);
}

std::string ItemDisplayPath(const nlohmann::json& item) {
  if (!item.is_object()) return "?";
  auto path = item.find(kItemPathKey);
  if (path == item.end() || !path->is_string()) return "?";
  // "path" is UTF-8 by contract; a foreign producer's is escaped here.
  return EscapeName(path->get_ref<const std::string&>());
}

Result<std::optional<std::string>> ItemHeader(const nlohmann::json& item) {
  auto header = GetBytesField(item, kItemHeaderKey);
  if (!header) return header.error().WithContext("item " + Quote(ItemDisplayPath(item)));
  return header;
}

}  // namespace lote
