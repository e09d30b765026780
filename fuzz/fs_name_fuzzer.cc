// File names as bytes (common/fs_name.h): every file a datastore lists, and
// every item an agent or a worker sends back, passes through these. Input: a
// flags byte, then either raw bytes (a file name; flags bit 0 clear) or a
// JSON item as a hostile agent or plugin could send it (bit 0 set).
//
// Checked against references written here: UTF-8 validity is nlohmann's
// (json::dump throws type_error.316 exactly on what is not UTF-8) and
// EscapeName is Python's decode("utf-8", "backslashreplace"), computed one
// position at a time (a well-formed sequence is kept, any other byte is
// "\xhh").
//   raw bytes: IsUtf8 agrees with nlohmann; EscapeName is the reference, is
//     UTF-8, and leaves UTF-8 alone; a byte field (SetBytesField, PathItem)
//     prints as JSON and reads back, through the text, as the same bytes;
//     ItemPath gives them back (refused only when empty or holding a NUL);
//     "path" is readable and "path_b64" present exactly when needed.
//   a JSON item: nothing throws; ItemPath, ItemHeader and GetBytesField
//     refuse with InvalidArgument only; whatever ItemPath accepts, written
//     back with SetItemPath, reads back the same (one value, one spelling).
#include <string>

#include <nlohmann/json.hpp>

#include "common/fs_name.h"
#include "fuzz_util.h"

using lote::fuzz::FuzzCheck;
using lote::fuzz::InputReader;
using nlohmann::json;

namespace {

// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629 §4, the
// table of well-formed byte sequences), or 0. Written apart from fs_name.cc.
size_t Utf8At(std::string_view s, size_t i) {
  auto b = [&](size_t k) -> int { return k < s.size() ? static_cast<uint8_t>(s[k]) : -1; };
  auto in = [&](size_t k, int lo, int hi) { return b(k) >= lo && b(k) <= hi; };
  const int c = b(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return in(i + 1, 0x80, 0xBF) ? 2 : 0;
  if (c == 0xE0) return in(i + 1, 0xA0, 0xBF) && in(i + 2, 0x80, 0xBF) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
    return in(i + 1, 0x80, 0xBF) && in(i + 2, 0x80, 0xBF) ? 3 : 0;
  if (c == 0xED) return in(i + 1, 0x80, 0x9F) && in(i + 2, 0x80, 0xBF) ? 3 : 0;
  if (c == 0xF0) return in(i + 1, 0x90, 0xBF) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3)
    return in(i + 1, 0x80, 0xBF) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF) ? 4 : 0;
  if (c == 0xF4) return in(i + 1, 0x80, 0x8F) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF) ? 4 : 0;
  return 0;
}

std::string Backslashreplace(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (size_t n = Utf8At(s, i)) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      const auto c = static_cast<uint8_t>(s[i++]);
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool NlohmannDumps(std::string_view s) {
  try {
    (void)json(std::string(s)).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

void CheckRaw(std::string_view raw) {
  const bool utf8 = lote::IsUtf8(raw);
  FuzzCheck(utf8 == NlohmannDumps(raw), "IsUtf8 and nlohmann disagree");
  const std::string escaped = lote::EscapeName(raw);
  FuzzCheck(escaped == Backslashreplace(raw), "EscapeName is not Python's backslashreplace: " + escaped);
  FuzzCheck(lote::IsUtf8(escaped), "EscapeName's result is not UTF-8");
  FuzzCheck(!utf8 || escaped == raw, "EscapeName changes UTF-8 text");

  // A byte field travels as JSON text (the job store, the agent API).
  json obj = {{"other", 1}, {"header_b64", "stale"}};
  lote::SetBytesField(obj, lote::kItemHeaderKey, raw);
  FuzzCheck(obj.contains("header_b64") == !utf8, "header_b64 is there when not needed, or missing when needed");
  FuzzCheck(obj["header"] == (utf8 ? std::string(raw) : escaped), "\"header\" is not the readable form");
  const json back = json::parse(obj.dump());
  auto field = lote::GetBytesField(back, lote::kItemHeaderKey);
  FuzzCheck(field && *field && **field == raw, "a byte field does not read back as its bytes");
  auto header = lote::ItemHeader(back);
  FuzzCheck(header && *header && **header == raw, "ItemHeader does not read back the header");

  const json item = json::parse(lote::PathItem(raw).dump());
  auto path = lote::ItemPath(item);
  const bool usable = !raw.empty() && raw.find('\0') == std::string_view::npos;
  FuzzCheck(path.has_value() == usable, std::string("ItemPath ") + (usable ? "refuses" : "accepts") + " a path" +
                                            (usable ? "" : " that is empty or holds a NUL"));
  if (path) FuzzCheck(*path == raw, "ItemPath does not give the path's bytes back");
  FuzzCheck(lote::ItemDisplayPath(item) == escaped, "ItemDisplayPath is not the escaped form");
}

void CheckItem(std::string_view text) {
  const json item = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (item.is_discarded()) return;
  auto path = lote::ItemPath(item);
  if (!path) {
    FuzzCheck(path.error().code() == lote::ErrorCode::kInvalidArgument, "ItemPath: " + path.error().message());
  } else {
    FuzzCheck(!path->empty() && path->find('\0') == std::string::npos, "ItemPath gives an unusable path");
    json again = item;
    lote::SetItemPath(again, *path);
    auto reread = lote::ItemPath(json::parse(again.dump()));
    FuzzCheck(reread && *reread == *path, "a path ItemPath accepts does not survive SetItemPath");
  }
  auto header = lote::ItemHeader(item);
  if (!header) FuzzCheck(header.error().code() == lote::ErrorCode::kInvalidArgument, "ItemHeader: " + header.error().message());
  FuzzCheck(lote::IsUtf8(lote::ItemDisplayPath(item)), "ItemDisplayPath is not UTF-8");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  InputReader in(data, size);
  const uint8_t flags = in.Byte();
  try {
    if ((flags & 1) == 0) {
      CheckRaw(in.Rest());
    } else {
      CheckItem(in.Rest());
    }
  } catch (const std::exception& e) {
    FuzzCheck(false, std::string("an exception escapes: ") + e.what());
  }
  return 0;
}
