// The node cache of remote agents (agent/artifact_cache.h): blobs checked
// against the manifest before they are kept, trees laid out once and reused,
// several agents filling one cache at once.
#include "agent/artifact_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/crypto.h"
#include "common/util.h"

namespace lote::agent {
namespace {

namespace fs = std::filesystem;
using artifacts::FileEntry;
using artifacts::Tree;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A control plane's blob store: the bytes of each hash, and what was asked.
struct FakeBlobs {
  std::map<std::string, std::string> bytes;  // sha256 -> content
  std::atomic<int> fetches{0};

  Tree Add(std::string name, std::vector<std::pair<std::string, std::string>> files,
           std::string exec = "") {
    Tree t;
    t.name = std::move(name);
    for (auto& [path, content] : files) {
      t.files.push_back({.path = path,
                         .size = content.size(),
                         .sha256 = Sha256Hex(content),
                         .executable = path == exec});
      bytes[Sha256Hex(content)] = content;
    }
    EXPECT_TRUE(artifacts::Seal(t, {}));
    return t;
  }
  BlobFetch Fetch() {
    return [this](const FileEntry& f, DownloadSink& sink) -> Status {
      ++fetches;
      return sink.Write(bytes.at(f.sha256));
    };
  }
};

class ArtifactCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("lote-cache-" + RandomHex(6));
    auto c = ArtifactCache::Open(root_);
    ASSERT_TRUE(c) << c.error().message();
    cache_.emplace(std::move(*c));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  const ArtifactCache& cache() const { return *cache_; }
  size_t Count(const char* sub) const {
    size_t n = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(root_ / sub)) ++n;
    return n;
  }
  fs::path root_;
  std::optional<ArtifactCache> cache_;
  FakeBlobs blobs_;
};

TEST_F(ArtifactCacheTest, FetchesMissingBlobsAndLaysOutTheTree) {
  Tree code = blobs_.Add("code",
                         {{"score.py", "def run(b): return b\n"},
                          {"lib/util.py", "X = 1\n"},
                          {"bin/tool.sh", "#!/bin/sh\n"}},
                         "bin/tool.sh");
  EXPECT_FALSE(cache().FindTree(code.sha256));
  auto dir = cache().Materialize(code, code.sha256, blobs_.Fetch());
  ASSERT_TRUE(dir) << dir.error().message();
  EXPECT_EQ(*dir, root_ / "trees" / code.sha256);
  EXPECT_EQ(Slurp(*dir / "score.py"), "def run(b): return b\n");
  EXPECT_EQ(Slurp(*dir / "lib" / "util.py"), "X = 1\n");
  struct stat st {};
  ASSERT_EQ(::stat((*dir / "bin" / "tool.sh").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR);
  ASSERT_EQ(::stat((*dir / "score.py").c_str(), &st), 0);
  EXPECT_FALSE(st.st_mode & S_IWUSR) << "cached files are read-only";
  EXPECT_EQ(blobs_.fetches, 3);
  EXPECT_EQ(Count("blobs"), 3u);
  EXPECT_EQ(Count("tmp"), 0u);

  // Cached: found by its hash, nothing fetched again.
  EXPECT_EQ(cache().FindTree(code.sha256), *dir);
  ASSERT_TRUE(cache().Materialize(code, code.sha256, blobs_.Fetch()));
  EXPECT_EQ(blobs_.fetches, 3);

  // Another tree sharing a file fetches only what is new.
  Tree code2 =
      blobs_.Add("code", {{"score.py", "def run(b): return b\n"}, {"extra.py", "Y = 2\n"}});
  ASSERT_TRUE(cache().Materialize(code2, code2.sha256, blobs_.Fetch()));
  EXPECT_EQ(blobs_.fetches, 4);
}

TEST_F(ArtifactCacheTest, ATamperedBlobIsRefusedAndNotKept) {
  Tree model = blobs_.Add("model", {{"weights.bin", "good bytes"}});
  const std::string sha = model.files[0].sha256;
  blobs_.bytes[sha] = "evil bytes";  // same size, other hash
  auto dir = cache().Materialize(model, model.sha256, blobs_.Fetch());
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code(), ErrorCode::kInvalidArgument);
  const std::string& m = dir.error().message();
  EXPECT_NE(m.find("refused 'weights.bin' of the model"), std::string::npos) << m;
  EXPECT_NE(m.find(Sha256Hex("evil bytes")), std::string::npos) << m;
  EXPECT_NE(m.find(sha), std::string::npos) << m;
  EXPECT_EQ(Count("blobs"), 0u);
  EXPECT_EQ(Count("trees"), 0u);
  EXPECT_EQ(Count("tmp"), 0u);

  blobs_.bytes[sha] = "good bytes, and more";  // longer than the manifest says
  dir = cache().Materialize(model, model.sha256, blobs_.Fetch());
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().message().find("more than the 10 bytes"), std::string::npos)
      << dir.error().message();
  EXPECT_EQ(Count("blobs"), 0u);

  blobs_.bytes[sha] = "good";  // shorter
  dir = cache().Materialize(model, model.sha256, blobs_.Fetch());
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().message().find("sent 4 bytes"), std::string::npos) << dir.error().message();
}

TEST_F(ArtifactCacheTest, ARetriedDownloadStartsOver) {
  Tree model = blobs_.Add("model", {{"weights.bin", "0123456789"}});
  int attempt = 0;
  auto dir =
      cache().Materialize(model, model.sha256, [&](const FileEntry&, DownloadSink& sink) -> Status {
        // A connection cut after 4 bytes, then a whole answer, as the client retries.
        ++attempt;
        LOTE_TRY(sink.Write("0123"));
        LOTE_TRY(sink.Restart());
        return sink.Write("0123456789");
      });
  ASSERT_TRUE(dir) << dir.error().message();
  EXPECT_EQ(Slurp(*dir / "weights.bin"), "0123456789");
}

TEST_F(ArtifactCacheTest, TheTreeMustBeTheOneTheConfigNames) {
  Tree model = blobs_.Add("model", {{"weights.bin", "w"}});
  auto dir = cache().Materialize(model, std::string(64, 'a'), blobs_.Fetch());
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().message().find("is not the tree the agent-config names"),
            std::string::npos);
  EXPECT_EQ(blobs_.fetches, 0);
}

TEST_F(ArtifactCacheTest, AgentsFillingOneCacheAtOnceAllGetTheTree) {
  std::vector<std::pair<std::string, std::string>> files;
  for (int i = 0; i < 20; ++i)
    files.emplace_back("f" + std::to_string(i), "content " + std::to_string(i));
  Tree model = blobs_.Add("model", files);
  constexpr int kAgents = 6;
  std::vector<Result<fs::path>> got(kAgents, Result<fs::path>(Internal("not run")));
  std::vector<std::thread> threads;
  for (int i = 0; i < kAgents; ++i) {
    threads.emplace_back([&, i] {
      // Each agent opens the cache itself, as separate processes would.
      auto c = ArtifactCache::Open(root_);
      got[i] =
          c ? c->Materialize(model, model.sha256, blobs_.Fetch()) : Result<fs::path>(c.error());
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : got) {
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(*r, root_ / "trees" / model.sha256);
  }
  EXPECT_EQ(Count("trees"), 1u);
  EXPECT_EQ(Count("blobs"), 20u);
  EXPECT_EQ(Count("tmp"), 0u);
  EXPECT_EQ(Slurp(root_ / "trees" / model.sha256 / "f7"), "content 7");
}

TEST_F(ArtifactCacheTest, RunFoldersAreFreshAndTheDefaultFolderFollowsTheEnvironment) {
  auto a = cache().MakeRunDir("job-node0");
  auto b = cache().MakeRunDir("job-node0");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->parent_path(), root_ / "runs");

  ::setenv("LOTE_AGENT_CACHE", "/x/cache", 1);
  EXPECT_EQ(DefaultCacheDir(), fs::path("/x/cache"));
  ::unsetenv("LOTE_AGENT_CACHE");
  ::setenv("XDG_CACHE_HOME", "/x/xdg", 1);
  EXPECT_EQ(DefaultCacheDir(), fs::path("/x/xdg/lote"));
  ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(DefaultCacheDir().filename(), "lote");
}

}  // namespace
}  // namespace lote::agent
