// Hashes, MACs and encodings (OpenSSL underneath).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lote {

std::string Sha256Hex(std::string_view data);
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
