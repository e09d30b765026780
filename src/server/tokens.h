// Signed bearer tokens. The admin token is a random secret kept in the home
// directory; endpoint tokens (`endpoint get-token`) are HMAC-signed claims
// that name one endpoint and expire. Both are checked in constant time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lote::server {

struct TokenClaims {
  std::string endpoint;    // the endpoint this token may invoke, or
  int64_t expires_at = 0;  // unix seconds
  std::string job;         // the job whose agent API this token may call
};

class TokenSigner {
 public:
  explicit TokenSigner(std::string key) : key_(std::move(key)) {}
  std::string Issue(const TokenClaims& claims) const;
  // Unauthenticated when malformed, forged or expired at `now`.
  Result<TokenClaims> Verify(std::string_view token, int64_t now) const;

 private:
  std::string key_;
};

}  // namespace lote::server
