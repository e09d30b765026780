#include "common/fs_name.h"

#include <gtest/gtest.h>

#include "common/crypto.h"

namespace lote {
namespace {

using nlohmann::json;

TEST(FsNameTest, Utf8NamesAreValidAndOthersAreNot) {
  EXPECT_TRUE(IsUtf8(""));
  EXPECT_TRUE(IsUtf8("plain.csv"));
  EXPECT_TRUE(IsUtf8("caf\xc3\xa9.csv"));
  EXPECT_TRUE(IsUtf8("\xf0\x9f\x98\x80"));
  EXPECT_TRUE(IsUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_FALSE(IsUtf8("caf\xe9.csv"));      // Latin-1
  EXPECT_FALSE(IsUtf8("\xc0\xaf"));         // overlong '/'
  EXPECT_FALSE(IsUtf8("\xe0\x80\xaf"));     // overlong
  EXPECT_FALSE(IsUtf8("\xed\xa0\x80"));     // a surrogate
  EXPECT_FALSE(IsUtf8("\xf4\x90\x80\x80")); // past U+10FFFF
  EXPECT_FALSE(IsUtf8("\xe2\x82"));         // truncated
  EXPECT_FALSE(IsUtf8("\xf5\x80\x80\x80"));
}

TEST(FsNameTest, EscapesLikePythonBackslashreplace) {
  // Expectations printed by /usr/bin/python3: raw.decode("utf-8", "backslashreplace").
  EXPECT_EQ(EscapeName("caf\xe9.csv"), "caf\\xe9.csv");
  EXPECT_EQ(EscapeName("caf\xc3\xa9.csv"), "caf\xc3\xa9.csv");
  EXPECT_EQ(EscapeName("\xff"), "\\xff");
  EXPECT_EQ(EscapeName("\xc0\xaf"), "\\xc0\\xaf");
  EXPECT_EQ(EscapeName("\xed\xa0\x80"), "\\xed\\xa0\\x80");
  EXPECT_EQ(EscapeName("\xe2\x82"
                       "A"),
            "\\xe2\\x82A");
  EXPECT_EQ(EscapeName("\xf0\x9f\x98\x80ok"), "\xf0\x9f\x98\x80ok");
  EXPECT_EQ(EscapeName("a\\xe9"), "a\\xe9");  // text that looks escaped stays as it is
}

// Every 1- and 2-byte string, and every 3- and 4-byte string over 25 byte
// values at the edges of UTF-8's ranges: EscapeName's output, one per line,
// hashes to what Python's decode("utf-8", "backslashreplace") gives (the
// digest was computed with /usr/bin/python3 over the same strings).
TEST(FsNameTest, AgreesWithPythonOnEveryShortString) {
  const unsigned char vals[] = {0x00, 0x41, 0x5c, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0,
                                0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed,
                                0xee, 0xef, 0xf0, 0xf3, 0xf4, 0xf5, 0xff};
  std::string all;
  size_t count = 0;
  auto add = [&](const std::string& s) {
    std::string e = EscapeName(s);
    EXPECT_TRUE(IsUtf8(e));
    EXPECT_EQ(IsUtf8(s), e == s);
    all += e;
    all += '\n';
    ++count;
  };
  for (int a = 0; a < 256; ++a) add(std::string(1, static_cast<char>(a)));
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) add(std::string{static_cast<char>(a), static_cast<char>(b)});
  }
  for (unsigned char a : vals) {
    for (unsigned char b : vals) {
      for (unsigned char c : vals) {
        add(std::string{char(a), char(b), char(c)});
      }
    }
  }
  for (unsigned char a : vals) {
    for (unsigned char b : vals) {
      for (unsigned char c : vals) {
        for (unsigned char d : vals) add(std::string{char(a), char(b), char(c), char(d)});
      }
    }
  }
  EXPECT_EQ(count, 472042u);
  EXPECT_EQ(Sha256Hex(all), "2af7483da2d050650c08c7467cfebee964e035b424980c5537ec888aa5dbbfb8");
}

TEST(FsNameTest, ItemsKeepUtf8PathsAndCarryTheBytesOfOthers) {
  json plain = PathItem("/data/caf\xc3\xa9.csv");
  EXPECT_EQ(plain, json({{"path", "/data/caf\xc3\xa9.csv"}}));
  EXPECT_EQ(*ItemPath(plain), "/data/caf\xc3\xa9.csv");
  EXPECT_EQ(ItemDisplayPath(plain), "/data/caf\xc3\xa9.csv");

  const std::string raw = "/data/caf\xe9.csv";
  json latin = PathItem(raw);
  EXPECT_EQ(latin["path"], "/data/caf\\xe9.csv");
  EXPECT_EQ(latin["path_b64"], Base64UrlEncode(raw));
  EXPECT_NO_THROW((void)latin.dump()) << "the item is JSON text now";
  auto back = ItemPath(json::parse(latin.dump()));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, raw) << "lossless through JSON text";
  EXPECT_EQ(ItemDisplayPath(latin), "/data/caf\\xe9.csv");

  // Re-pointing an item at a UTF-8 path drops the stale bytes.
  SetItemPath(latin, "/tmp/chunk.csv");
  EXPECT_EQ(latin, json({{"path", "/tmp/chunk.csv"}}));
}

TEST(FsNameTest, BadItemsAreErrorsNamingThem) {
  EXPECT_FALSE(ItemPath(json::array()));
  EXPECT_FALSE(ItemPath(json::object()));
  EXPECT_FALSE(ItemPath({{"path", 3}}));
  auto bad = ItemPath({{"path", "caf\\xe9.csv"}, {"path_b64", "***"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "item 'caf\\xe9.csv': \"path_b64\" is not base64url without padding");
  EXPECT_EQ(ItemPath({{"path", "x"}, {"path_b64", Base64UrlEncode(std::string("a\0b", 3))}})
                .error()
                .message(),
            "item 'x': its path holds a NUL byte, which no file name can");
  EXPECT_FALSE(ItemPath({{"path", "x"}, {"path_b64", "YQ=="}})) << "padding is not canonical";
  EXPECT_FALSE(ItemPath({{"path", "x"}, {"path_b64", "YR"}})) << "stray bits";
  EXPECT_FALSE(ItemPath({{"path", "x"}, {"path_b64", 7}}));
  EXPECT_EQ(ItemDisplayPath(json::object()), "?");
}

TEST(FsNameTest, HeadersAreByteFieldsToo) {
  json item = PathItem("/d/x.csv");
  EXPECT_EQ(*ItemHeader(item), std::nullopt);
  SetBytesField(item, "header", "caf\xe9,prix");
  EXPECT_EQ(item["header"], "caf\\xe9,prix");
  EXPECT_EQ(**ItemHeader(json::parse(item.dump())), "caf\xe9,prix");
  SetBytesField(item, "header", "a,b");
  EXPECT_EQ(item, json({{"path", "/d/x.csv"}, {"header", "a,b"}}));
  EXPECT_EQ(**ItemHeader(item), "a,b");
  EXPECT_FALSE(ItemHeader({{"path", "x"}, {"header", 1}}));
  auto bad = ItemHeader({{"path", "x"}, {"header", "h"}, {"header_b64", "!"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "item 'x': \"header_b64\" is not base64url without padding");
}

}  // namespace
}  // namespace lote
