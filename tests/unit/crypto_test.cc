#include "common/crypto.h"

#include <gtest/gtest.h>

namespace lote {
namespace {

TEST(Base64UrlTest, RoundTripsEveryLength) {
  std::string data;
  for (int i = 0; i < 64; ++i) {
    auto back = Base64UrlDecode(Base64UrlEncode(data));
    ASSERT_TRUE(back) << i << ": " << back.error().message();
    EXPECT_EQ(*back, data);
    data.push_back(static_cast<char>(i * 37 + 200));
  }
}

TEST(Base64UrlTest, AcceptsOnlyTheCanonicalText) {
  EXPECT_EQ(*Base64UrlDecode("YQ"), "a");
  EXPECT_EQ(*Base64UrlDecode("YWI"), "ab");
  EXPECT_EQ(*Base64UrlDecode("-_8"), "\xfb\xff");
  // "YR" also decodes to 'a' if the low bits are ignored; "YWJ" to "ab".
  for (const char* bad : {"YR", "YWJ", "YQ==", "YQ=", "Y", "YWJjZ", "YW I", "YW+i", "YW/i", "YW\n",
                          "\xc3\xa9YQ"}) {
    auto r = Base64UrlDecode(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << bad;
    }
  }
  EXPECT_NE(Base64UrlDecode("YQ==").error().message().find("padding"), std::string::npos);
  EXPECT_NE(Base64UrlDecode("YR").error().message().find("not canonical"), std::string::npos);
  EXPECT_EQ(*Base64UrlDecode(""), "");
}

}  // namespace
}  // namespace lote
