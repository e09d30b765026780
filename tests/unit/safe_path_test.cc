#include "storage/safe_path.h"

#include <gtest/gtest.h>

#include "common/util.h"

namespace lote::storage {
namespace {

TEST(SafePathTest, NormalizesRelativePaths) {
  EXPECT_EQ(*NormalizeRelativePath("a/./b//c/"), "a/b/c");
  EXPECT_EQ(*NormalizeRelativePath(""), "");
  EXPECT_EQ(*NormalizeRelativePath("."), "");
}

TEST(SafePathTest, RefusesEscapes) {
  for (const char* bad : {"../x", "a/../../x", "/etc/passwd", "a/..", ".."}) {
    auto r = NormalizeRelativePath(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_NE(NormalizeRelativePath("../x").error().message().find("'..'"), std::string::npos);
  EXPECT_NE(NormalizeRelativePath("/etc").error().message().find("absolute"), std::string::npos);
  EXPECT_FALSE(NormalizeRelativePath(std::string_view("a\0b", 3)));
}

// Found by fuzz/safe_path: "./\\x" normalized to "\\x", which is itself
// refused as absolute, so a file stored under the first name would be
// listed under a name no route accepts. A backslash that starts the path
// once "." and empty segments are dropped is refused as absolute too.
TEST(SafePathTest, TheNormalFormIsAcceptedBack) {
  for (const char* bad : {"./\\", "./\\x", ".//./\\server\\share", "\\x"}) {
    auto r = NormalizeRelativePath(bad);
    ASSERT_FALSE(r) << bad << " -> " << *r;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find("absolute"), std::string::npos) << r.error().message();
  }
  for (const char* good : {"a/\\b", "a\\b", "./a/./b\\", "data/x.csv"}) {
    auto r = NormalizeRelativePath(good);
    ASSERT_TRUE(r) << good << ": " << r.error().message();
    auto again = NormalizeRelativePath(*r);
    ASSERT_TRUE(again) << *r;
    EXPECT_EQ(*again, *r);
  }
}

TEST(SafePathTest, RefusesSymlinkOutOfRoot) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("lote-safe-" + RandomHex(6));
  fs::create_directories(root / "in");
  fs::create_directory_symlink("/tmp", root / "out");
  EXPECT_TRUE(SafeJoin(root, "in").has_value());
  EXPECT_EQ(*SafeJoin(root, "in/new.csv"), root / "in/new.csv");
  auto r = SafeJoin(root, "out");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("outside"), std::string::npos);
  // A path that does not exist yet is judged by its existing prefix: a file
  // to be created through a link that leads out is refused too.
  auto through = SafeJoin(root, "out/new-" + RandomHex(4) + "/x.csv");
  ASSERT_FALSE(through);
  EXPECT_EQ(through.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(through.error().message().find("'out' is a symbolic link to '/tmp'"), std::string::npos)
      << through.error().message();
  fs::remove_all(root);
}

TEST(SafePathTest, RefusesOverlongNames) {
  auto r = NormalizeRelativePath("dir/" + std::string(300, 'x'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("255-byte limit"), std::string::npos) << r.error().message();
  EXPECT_TRUE(NormalizeRelativePath(std::string(255, 'x')));
  EXPECT_FALSE(NormalizeRelativePath(std::string(5000, 'a') ));
}

}  // namespace
}  // namespace lote::storage
