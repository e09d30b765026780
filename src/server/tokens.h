// Signed bearer tokens. The admin token is a random secret kept in the home
// directory; endpoint tokens (`endpoint get-token`) are HMAC-signed claims
// that name one endpoint by name and by its immutable uid, and expire; agent
// tokens name one job. Both kinds are checked in constant time.
//
// Format: "lote1." base64url(claims JSON) "." base64url(HMAC-SHA256(key, body)),
// both parts canonical base64url (crypto.h), so a token cannot be altered
// and still verify.
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
  // The endpoint's uid when issued: a new endpoint of the same name (after a
  // delete) has another, so the old tokens stop working.
  std::string endpoint_uid;
  // "read": a read-only token (`lote token create --scope read`) that may GET
  // anything and change nothing; "" for the other kinds.
  std::string scope;
};

class TokenSigner {
 public:
  explicit TokenSigner(std::string key) : key_(std::move(key)) {}
  std::string Issue(const TokenClaims& claims) const;
  // Unauthenticated when malformed, forged or expired at `now`. Does not
  // check that the endpoint still exists (auth.h does).
  Result<TokenClaims> Verify(std::string_view token, int64_t now) const;

 private:
  std::string key_;
};

}  // namespace lote::server
