#include "native/torchscript_archive.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <set>
#include <string_view>

#include "common/util.h"

namespace lote::native {

namespace fs = std::filesystem;

namespace {

// Zip records (APPNOTE.TXT 4.3): end of central directory, its ZIP64 locator
// and record, and central directory headers.
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr size_t kEndBytes = 22;
constexpr size_t kMaxComment = 0xffff;
constexpr uint64_t kMaxCentralBytes = 256ull << 20;  // far above any model's

uint64_t Le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

Result<std::string> ReadAt(std::ifstream& in, const fs::path& file, uint64_t offset, uint64_t n) {
  std::string buf(n, '\0');
  in.clear();
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(buf.data(), static_cast<std::streamsize>(n));
  if (static_cast<uint64_t>(in.gcount()) != n)
    return IoError("cannot read " + Quote(file.string()));
  return buf;
}

}  // namespace

Result<std::vector<std::string>> ZipEntryNames(const fs::path& file) {
  auto not_zip = [&](std::string_view why) {
    return InvalidArgument(Quote(file.string()) + " is not a zip archive (" + std::string(why) +
                           ")");
  };
  std::error_code ec;
  const uint64_t size = fs::file_size(file, ec);
  if (ec) return IoError("cannot read " + Quote(file.string()) + ": " + ec.message());
  std::ifstream in(file, std::ios::binary);
  if (!in) return IoError("cannot read " + Quote(file.string()));
  if (size < kEndBytes) return not_zip("too short");

  // The end record is the last thing in the file, before a comment.
  const uint64_t tail_bytes = std::min<uint64_t>(size, kEndBytes + kMaxComment);
  LOTE_ASSIGN_OR_RETURN(std::string tail, ReadAt(in, file, size - tail_bytes, tail_bytes));
  size_t end = std::string::npos;
  for (size_t i = tail.size() - kEndBytes + 1; i-- > 0;) {
    if (Le(&tail[i], 4) == kEndSig && i + kEndBytes + Le(&tail[i + 20], 2) == tail.size()) {
      end = i;
      break;
    }
  }
  if (end == std::string::npos) return not_zip("no end of central directory");
  const uint64_t end_offset = size - tail_bytes + end;
  uint64_t entries = Le(&tail[end + 10], 2);
  uint64_t cd_size = Le(&tail[end + 12], 4);
  uint64_t cd_offset = Le(&tail[end + 16], 4);
  if (entries == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {
    if (end_offset < 20) return not_zip("no ZIP64 locator");
    LOTE_ASSIGN_OR_RETURN(std::string loc, ReadAt(in, file, end_offset - 20, 20));
    if (Le(&loc[0], 4) != kZip64LocatorSig) return not_zip("no ZIP64 locator");
    const uint64_t rec_offset = Le(&loc[8], 8);
    if (rec_offset + 56 > size) return not_zip("bad ZIP64 locator");
    LOTE_ASSIGN_OR_RETURN(std::string rec, ReadAt(in, file, rec_offset, 56));
    if (Le(&rec[0], 4) != kZip64EndSig) return not_zip("bad ZIP64 end record");
    entries = Le(&rec[32], 8);
    cd_size = Le(&rec[40], 8);
    cd_offset = Le(&rec[48], 8);
  }
  if (cd_offset > size || cd_size > size - cd_offset || cd_size > kMaxCentralBytes) {
    return not_zip("central directory out of the file");
  }
  LOTE_ASSIGN_OR_RETURN(std::string cd, ReadAt(in, file, cd_offset, cd_size));
  std::vector<std::string> names;
  size_t p = 0;
  for (uint64_t i = 0; i < entries; ++i) {
    if (p + 46 > cd.size() || Le(&cd[p], 4) != kCentralSig) {
      return not_zip("broken central directory");
    }
    const size_t name_len = Le(&cd[p + 28], 2);
    const size_t extra_len = Le(&cd[p + 30], 2);
    const size_t comment_len = Le(&cd[p + 32], 2);
    if (p + 46 + name_len > cd.size()) return not_zip("broken central directory");
    names.emplace_back(cd, p + 46, name_len);
    p += 46 + name_len + extra_len + comment_len;
  }
  return names;
}

Status CheckTorchScriptArchive(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    return NotFound("TorchScript model " + Quote(file.string()) + " does not exist");
  }
  auto names = ZipEntryNames(file);
  if (!names) {
    if (names.error().code() != ErrorCode::kInvalidArgument) return names.error();
    return InvalidArgument(Quote(file.string()) +
                           " is not a TorchScript model: torch.jit.save writes a "
                           "zip archive, and this file is not one");
  }
  // Folders holding constants.pkl / code/ / data.pkl.
  std::set<std::string, std::less<>> constants, code, data;
  for (const std::string& n : *names) {
    const size_t slash = n.find('/');
    if (slash == std::string::npos) continue;
    const std::string top = n.substr(0, slash);
    const std::string_view rest = std::string_view(n).substr(slash + 1);
    if (rest == "constants.pkl") constants.insert(top);
    if (rest.starts_with("code/")) code.insert(top);
    if (rest == "data.pkl") data.insert(top);
  }
  for (const std::string& top : constants) {
    if (code.contains(top)) return {};
  }
  if (!data.empty()) {
    return InvalidArgument(Quote(file.string()) +
                           " is not a TorchScript model: it was written by "
                           "torch.save (a state dict or a pickled module), not torch.jit.save; "
                           "save it with torch.jit.save(torch.jit.script(model), path)");
  }
  return InvalidArgument(Quote(file.string()) +
                         " is not a TorchScript model: a zip archive without the "
                         "code/ and constants.pkl entries torch.jit.save writes");
}

}  // namespace lote::native
