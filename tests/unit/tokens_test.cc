#include "server/tokens.h"

#include <gtest/gtest.h>

namespace lote::server {
namespace {

TEST(TokensTest, RoundTripAndExpiry) {
  TokenSigner signer("k1");
  std::string t = signer.Issue({.endpoint = "mybatchedp", .expires_at = 1000, .job = "", .endpoint_uid = "u1"});
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
  std::string t = a.Issue({.endpoint = "ep1", .expires_at = 5000, .job = "", .endpoint_uid = ""});
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
  std::string t = signer.Issue({.endpoint = "ep1", .expires_at = 5000, .job = "", .endpoint_uid = "u"});
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

}  // namespace
}  // namespace lote::server
