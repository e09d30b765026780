#include "server/tokens.h"

#include <gtest/gtest.h>

#include "common/crypto.h"

namespace lote::server {
namespace {

TEST(TokensTest, RoundTripAndExpiry) {
  TokenSigner signer("k1");
  std::string t = signer.Issue({.endpoint = "mybatchedp", .expires_at = 1000, .job = "", .endpoint_uid = "u1", .scope = ""});
  auto c = signer.Verify(t, 999);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->endpoint, "mybatchedp");
  EXPECT_EQ(c->endpoint_uid, "u1");
  auto expired = signer.Verify(t, 1000);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(expired.error().message(), "token expired");
}

TEST(TokensTest, RefusesForgedAndMalformed) {
  TokenSigner a("k1"), b("k2");
  std::string t = a.Issue({.endpoint = "ep1", .expires_at = 5000, .job = "", .endpoint_uid = "", .scope = ""});
  EXPECT_EQ(b.Verify(t, 1).error().message(), "invalid token: bad signature");
  std::string tampered = t;
  tampered[8] = tampered[8] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(a.Verify(tampered, 1));
  EXPECT_FALSE(a.Verify("garbage", 1));
  EXPECT_FALSE(a.Verify("lote1.nodot", 1));
}

// A token is one exact string: flipping the unused low bits of the
// signature's last character, or padding it, used to verify still.
TEST(TokensTest, RefusesNonCanonicalBase64) {
  TokenSigner signer("k1");
  std::string t = signer.Issue({.endpoint = "ep1", .expires_at = 5000, .job = "", .endpoint_uid = "u", .scope = ""});
  ASSERT_TRUE(signer.Verify(t, 1));
  // A 32-byte MAC is 43 characters; the last carries 2 unused bits.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  int accepted = 0;
  for (char c : alphabet) {
    std::string other = t;
    other.back() = c;
    if (signer.Verify(other, 1)) ++accepted;
  }
  EXPECT_EQ(accepted, 1);  // only the original
  EXPECT_FALSE(signer.Verify(t + "=", 1));
  EXPECT_FALSE(signer.Verify(t + "A", 1));
  std::string body_end = t.substr(0, t.find('.', 6));
  std::string sig = t.substr(t.find('.', 6));
  EXPECT_FALSE(signer.Verify(body_end + "=" + sig, 1));
  EXPECT_FALSE(signer.Verify(body_end + " " + sig, 1));
}

// Found by fuzz/token (claims signed with the key, as a bug in Issue could
// write them): an "exp" that is a float was cast to an integer, undefined
// behaviour past 2^63 (UBSan's float-cast-overflow). Claims are Issue's
// integers or nothing.
TEST(TokensTest, ClaimsOfTheWrongTypesAreMalformed) {
  const std::string key = "k1";
  TokenSigner signer(key);
  auto sign = [&](const std::string& claims) {
    std::string body = Base64UrlEncode(claims);
    return "lote1." + body + "." + Base64UrlEncode(HmacSha256(key, body));
  };
  for (const char* claims : {R"({"ep":"e","exp":7.3e26})", R"({"ep":"e","exp":1.9e9})", R"({"ep":"e","exp":"9"})",
                             R"({"ep":"e","exp":18446744073709551615})", R"({"ep":5,"exp":1900000000})",
                             R"({"ep":"e","exp":1900000000,"job":["x"]})", R"(["ep"])"}) {
    auto c = signer.Verify(sign(claims), 1);
    ASSERT_FALSE(c) << claims;
    EXPECT_EQ(c.error().message(), "invalid token: malformed claims") << claims;
  }
  EXPECT_TRUE(signer.Verify(sign(R"({"ep":"e","exp":1900000000})"), 1));
}

}  // namespace
}  // namespace lote::server
