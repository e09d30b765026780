#include "server/tokens.h"

#include <gtest/gtest.h>

namespace lote::server {
namespace {

TEST(TokensTest, RoundTripAndExpiry) {
  TokenSigner signer("k1");
  std::string t = signer.Issue({.endpoint = "mybatchedp", .expires_at = 1000, .job = ""});
  auto c = signer.Verify(t, 999);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->endpoint, "mybatchedp");
  auto expired = signer.Verify(t, 1000);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(expired.error().message(), "token expired");
}

TEST(TokensTest, RefusesForgedAndMalformed) {
  TokenSigner a("k1"), b("k2");
  std::string t = a.Issue({.endpoint = "ep1", .expires_at = 5000, .job = ""});
  EXPECT_EQ(b.Verify(t, 1).error().message(), "invalid token: bad signature");
  std::string tampered = t;
  tampered[8] = tampered[8] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(a.Verify(tampered, 1));
  EXPECT_FALSE(a.Verify("garbage", 1));
  EXPECT_FALSE(a.Verify("lote1.nodot", 1));
}

}  // namespace
}  // namespace lote::server
