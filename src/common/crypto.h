// Hashes, MACs and encodings (OpenSSL underneath).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lote {

std::string Sha256Hex(std::string_view data);

// sha256 over data given in pieces (a download, a file read in blocks).
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(Sha256Hasher&&) noexcept;
  Sha256Hasher& operator=(Sha256Hasher&&) noexcept;

  void Update(std::string_view data);
  // The digest of everything given since construction or the last Reset(),
  // as 64 lowercase hex digits; resets the hasher.
  std::string HexDigest();
  void Reset();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};
// Raw 32-byte HMAC-SHA256 of data under key.
std::string HmacSha256(std::string_view key, std::string_view data);
std::string Base64UrlEncode(std::string_view data);  // no padding
// The inverse of Base64UrlEncode, canonical forms only: the URL-safe
// alphabet, no padding, no whitespace, a length that is not 1 mod 4, and
// zero bits where the last character carries fewer than 6. So each byte
// string has exactly one accepted text (a token cannot be altered and still
// verify). InvalidArgument naming what is wrong and where.
Result<std::string> Base64UrlDecode(std::string_view text);
// Constant-time equality, for comparing secrets.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// sha256 over a file or a folder tree: sorted relative paths and their
// contents, so the same files give the same hash wherever they live.
Result<std::string> TreeSha256(const std::filesystem::path& root);

}  // namespace lote
