// The artifact manifest's rules (artifacts/manifest.h): tree digests, paths,
// limits, and manifests read from the wire.
#include <gtest/gtest.h>

#include "artifacts/manifest.h"
#include "common/crypto.h"

namespace lote::artifacts {
namespace {

using nlohmann::json;

FileEntry File(std::string path, std::string_view content, bool executable = false) {
  return {.path = std::move(path),
          .size = content.size(),
          .sha256 = Sha256Hex(content),
          .executable = executable};
}

bool Mentions(const Error& e, std::string_view what) {
  return e.message().find(what) != std::string::npos;
}

TEST(ArtifactsManifestTest, TreeDigestCoversPathsSizesHashesAndModesInAnyOrder) {
  std::vector<FileEntry> files = {File("b.txt", "b"), File("a/x.py", "x")};
  const std::string digest = TreeDigest(files);
  EXPECT_TRUE(IsSha256Hex(digest));
  EXPECT_EQ(TreeDigest({files[1], files[0]}), digest);
  auto exec = files;
  exec[0].executable = true;
  EXPECT_NE(TreeDigest(exec), digest);
  auto renamed = files;
  renamed[0].path = "c.txt";
  EXPECT_NE(TreeDigest(renamed), digest);
  auto other = files;
  other[0] = File("b.txt", "B");
  EXPECT_NE(TreeDigest(other), digest);
  EXPECT_NE(TreeDigest({}), digest);
}

TEST(ArtifactsManifestTest, PathsMustBeNormalAndRelative) {
  for (const char* ok : {"a", "a/b.py", "caf\xe9.csv", "x/.hidden"})
    EXPECT_TRUE(CheckRelativePath(ok)) << ok;
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../b", "a//b", "./a", "a/.", "a/"}) {
    auto st = CheckRelativePath(bad);
    ASSERT_FALSE(st) << bad;
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(CheckRelativePath(std::string("a\0b", 3)));
  EXPECT_FALSE(CheckRelativePath(std::string(256, 'n')));
  EXPECT_FALSE(CheckRelativePath(std::string(kMaxPathBytes + 1, 'n')));
}

TEST(ArtifactsManifestTest, SealSortsChecksAndHashes) {
  Tree t{
      .name = "code", .files = {File("z.py", "z"), File("a.py", "a")}, .entry = "", .sha256 = ""};
  ASSERT_TRUE(Seal(t, {}));
  EXPECT_EQ(t.files[0].path, "a.py");
  EXPECT_EQ(t.sha256, TreeDigest(t.files));
  EXPECT_EQ(t.bytes(), 2u);

  Tree twice{
      .name = "code", .files = {File("a.py", "a"), File("a.py", "b")}, .entry = "", .sha256 = ""};
  auto st = Seal(twice, {});
  ASSERT_FALSE(st);
  EXPECT_TRUE(Mentions(st.error(), "listed twice")) << st.error().message();

  Tree both{.name = "code", .files = {File("a", "a"), File("a/b", "b")}, .entry = "", .sha256 = ""};
  st = Seal(both, {});
  ASSERT_FALSE(st);
  EXPECT_TRUE(Mentions(st.error(), "both a file and a folder")) << st.error().message();

  Tree many{.name = "model",
            .files = {File("a", "a"), File("b", "b"), File("c", "c")},
            .entry = "",
            .sha256 = ""};
  st = Seal(many, {.max_files = 2, .max_bytes = 100});
  ASSERT_FALSE(st);
  EXPECT_TRUE(Mentions(st.error(), "3 files")) << st.error().message();
  st = Seal(many, {.max_files = 10, .max_bytes = 2});
  ASSERT_FALSE(st);
  EXPECT_TRUE(Mentions(st.error(), "over 2 bytes")) << st.error().message();

  Tree runner{.name = "runner",
              .files = {File("lote_runner.py", "r")},
              .entry = "missing.py",
              .sha256 = ""};
  st = Seal(runner, {});
  ASSERT_FALSE(st);
  EXPECT_TRUE(Mentions(st.error(), "entry")) << st.error().message();
}

TEST(ArtifactsManifestTest, JsonRoundTripKeepsBytesNames) {
  Tree t{.name = "model",
         .files = {File("caf\xe9.bin", "bytes", false), File("run.sh", "#!/bin/sh\n", true)},
         .entry = "",
         .sha256 = ""};
  ASSERT_TRUE(Seal(t, {}));
  json j = ManifestToJson({t});
  const json& f0 = j["trees"][0]["files"][0];
  EXPECT_TRUE(f0.contains("path_b64")) << f0.dump();  // not UTF-8: carried as bytes
  auto back = ManifestFromJson(j, {});
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].files, t.files);
  EXPECT_EQ((*back)[0].sha256, t.sha256);
  EXPECT_EQ(TreeRef(t)["files"], 2);
}

TEST(ArtifactsManifestTest, ManifestsFromTheWireAreChecked) {
  Tree t{.name = "code", .files = {File("score.py", "print()")}, .entry = "", .sha256 = ""};
  ASSERT_TRUE(Seal(t, {}));
  json good = ManifestToJson({t});

  json forged = good;
  forged["trees"][0]["sha256"] = std::string(64, 'a');
  auto r = ManifestFromJson(forged, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field(), "trees[0].tree 'code'.sha256");

  json escape = good;
  escape["trees"][0]["files"][0]["path"] = "../../etc/passwd";
  escape["trees"][0].erase("sha256");
  r = ManifestFromJson(escape, {});
  ASSERT_FALSE(r);
  EXPECT_TRUE(Mentions(r.error(), "not a normal relative path")) << r.error().message();

  json bad_hash = good;
  bad_hash["trees"][0]["files"][0]["sha256"] = "ABC";
  r = ManifestFromJson(bad_hash, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field(), "trees[0].tree 'code'.files[0].sha256");

  json negative = good;
  negative["trees"][0]["files"][0]["size"] = -1;
  EXPECT_FALSE(ManifestFromJson(negative, {}));

  r = ManifestFromJson(good, {.max_files = 0, .max_bytes = 1});
  ASSERT_FALSE(r);
  EXPECT_TRUE(Mentions(r.error(), "over the limit")) << r.error().message();
  EXPECT_FALSE(ManifestFromJson(json::array(), {}));
}

}  // namespace
}  // namespace lote::artifacts
