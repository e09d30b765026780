#include "common/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <vector>

namespace lote {
namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 15]);
  }
  return out;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

MdCtx NewSha256() {
  MdCtx ctx(EVP_MD_CTX_new());
  LOTE_CHECK(ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1);
  return ctx;
}

std::string Finish(EVP_MD_CTX* ctx) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  LOTE_CHECK(EVP_DigestFinal_ex(ctx, md, &len) == 1);
  return Hex(md, len);
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  MdCtx ctx = NewSha256();
  EVP_DigestUpdate(ctx.get(), data.data(), data.size());
  return Finish(ctx.get());
}

struct Sha256Hasher::Ctx {
  MdCtx md = NewSha256();
};

Sha256Hasher::Sha256Hasher() : ctx_(std::make_unique<Ctx>()) {}
Sha256Hasher::~Sha256Hasher() = default;
Sha256Hasher::Sha256Hasher(Sha256Hasher&&) noexcept = default;
Sha256Hasher& Sha256Hasher::operator=(Sha256Hasher&&) noexcept = default;

void Sha256Hasher::Update(std::string_view data) {
  EVP_DigestUpdate(ctx_->md.get(), data.data(), data.size());
}

std::string Sha256Hasher::HexDigest() {
  std::string hex = Finish(ctx_->md.get());
  Reset();
  return hex;
}

void Sha256Hasher::Reset() { LOTE_CHECK(EVP_DigestInit_ex(ctx_->md.get(), EVP_sha256(), nullptr) == 1); }

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  LOTE_CHECK(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                  reinterpret_cast<const unsigned char*>(data.data()), data.size(), md,
                  &len) != nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string Base64UrlEncode(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  while (i + 2 < data.size()) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
    i += 3;
  }
  if (i + 1 == data.size()) {
    uint32_t v = uint8_t(data[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (i + 2 == data.size()) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (text.size() % 4 == 1) {
    return InvalidArgument("base64url text of " + std::to_string(text.size()) +
                           " characters is truncated (a length of 1 mod 4 encodes no whole byte)");
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    int v = value(text[i]);
    if (v < 0) {
      return InvalidArgument("invalid base64url character at offset " + std::to_string(i) +
                             (text[i] == '=' ? " (padding is not used)" : ""));
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // The bits after the last whole byte must be zero: otherwise several texts
  // would decode to the same bytes.
  if ((acc & ((1u << bits) - 1)) != 0) {
    return InvalidArgument("base64url text is not canonical (its last character has bits set past the data)");
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::string> TreeSha256(const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  if (fs::is_regular_file(root, ec)) {
    files.push_back(root.filename());
  } else if (fs::is_directory(root, ec)) {
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->is_regular_file()) files.push_back(fs::relative(it->path(), root));
    }
    if (ec) return IoError("cannot list '" + root.string() + "': " + ec.message());
  } else {
    return NotFound("'" + root.string() + "' does not exist");
  }
  std::sort(files.begin(), files.end());
  MdCtx ctx = NewSha256();
  std::vector<char> buf(1 << 16);
  for (const fs::path& rel : files) {
    std::string name = rel.generic_string();
    EVP_DigestUpdate(ctx.get(), name.c_str(), name.size() + 1);
    fs::path full = fs::is_directory(root) ? root / rel : root;
    std::ifstream in(full, std::ios::binary);
    if (!in) return IoError("cannot read '" + full.string() + "'");
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
    }
    EVP_DigestUpdate(ctx.get(), "\0", 1);
  }
  return Finish(ctx.get());
}

}  // namespace lote
