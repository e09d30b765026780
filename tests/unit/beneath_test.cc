// storage::Beneath against real folders, real symbolic links and real races,
// with openat2 and with the fallback walk (each test runs with both).
#include "storage/beneath.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "common/util.h"

namespace lote::storage {
namespace {

namespace fs = std::filesystem;

std::string Slurp(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

void Write(const fs::path& p, std::string_view text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

bool Mentions(const Error& e, std::string_view what) {
  return e.message().find(what) != std::string::npos;
}

class BeneathTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("lote-beneath-" + RandomHex(6));
    root_ = base_ / "root";
    outside_ = base_ / "outside";
    fs::create_directories(root_);
    fs::create_directories(outside_);
    Write(outside_ / "secret.txt", "SECRET");
    Write(root_ / "data" / "a.csv", "x\n1\n");
    auto b = Beneath::Open(root_, "datastore 'ds'", {.use_openat2 = GetParam()});
    ASSERT_TRUE(b) << b.error().message();
    beneath_.emplace(std::move(*b));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  const Beneath& b() const { return *beneath_; }
  bool NothingNewOutside() const {
    int n = 0;
    for (auto it = fs::recursive_directory_iterator(outside_); it != fs::end(it); ++it) ++n;
    return n == 1;  // secret.txt only
  }

  fs::path base_, root_, outside_;
  std::optional<Beneath> beneath_;
};

INSTANTIATE_TEST_SUITE_P(Resolution, BeneathTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Openat2" : "Walk"; });

TEST(BeneathKernelTest, ThisKernelHasOpenat2) {
  // Linux 5.6+; the fallback is tested on every kernel through the parameter.
  EXPECT_TRUE(Beneath::KernelHasOpenat2());
}

TEST_P(BeneathTest, ReadsAFileAndNamesItsRealPath) {
  auto f = b().OpenRead("data/./a.csv");
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(Slurp(f->fd.get()), "x\n1\n");
  EXPECT_EQ(f->size, 4u);
  EXPECT_EQ(f->resolved, fs::canonical(root_) / "data/a.csv");
}

TEST_P(BeneathTest, RefusesAbsoluteSymlinkOut) {
  fs::create_symlink(outside_ / "secret.txt", root_ / "data" / "passwd");
  auto f = b().OpenRead("data/passwd");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(f.error(), "'data/passwd' is a symbolic link to")) << f.error().message();
  EXPECT_TRUE(Mentions(f.error(), "outside datastore 'ds'")) << f.error().message();
  EXPECT_FALSE(b().Stat("data/passwd"));
}

TEST_P(BeneathTest, RefusesRelativeSymlinkOut) {
  fs::create_symlink("../../outside/secret.txt", root_ / "data" / "up");
  auto f = b().OpenRead("data/up");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(f.error(), "outside")) << f.error().message();
}

TEST_P(BeneathTest, RefusesAFolderLinkOutForReadWriteListAndMkdir) {
  fs::create_directory_symlink(outside_, root_ / "out");
  EXPECT_EQ(b().OpenRead("out/secret.txt").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(b().List("out").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(b().MakeDirs("out/new/deeper").error().code(), ErrorCode::kInvalidArgument);
  auto created = b().CreateNew("out/x.txt");
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(created.error(), "'out' is a symbolic link to")) << created.error().message();
  EXPECT_TRUE(NothingNewOutside());
}

TEST_P(BeneathTest, FollowsLinksThatStayInside) {
  fs::create_symlink("a.csv", root_ / "data" / "rel.csv");
  fs::create_symlink(fs::canonical(root_) / "data" / "a.csv", root_ / "abs.csv");
  fs::create_directory_symlink("data", root_ / "alias");
  fs::create_directories(root_ / "deep" / "er");
  fs::create_symlink("../../data/a.csv", root_ / "deep" / "er" / "up.csv");
  for (const char* rel : {"data/rel.csv", "abs.csv", "alias/a.csv", "alias/rel.csv", "deep/er/up.csv"}) {
    auto f = b().OpenRead(rel);
    ASSERT_TRUE(f) << rel << ": " << f.error().message();
    EXPECT_EQ(Slurp(f->fd.get()), "x\n1\n") << rel;
    EXPECT_EQ(f->resolved, fs::canonical(root_) / "data/a.csv") << rel;
  }
}

TEST_P(BeneathTest, RefusesLexicalEscapesBeforeAnyLookup) {
  for (const char* bad : {"../outside/secret.txt", "data/../../outside/secret.txt", "/etc/passwd", ".."}) {
    auto f = b().OpenRead(bad);
    ASSERT_FALSE(f) << bad;
    EXPECT_EQ(f.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(Mentions(b().OpenRead("/etc/passwd").error(), "absolute"));
  auto nul = b().OpenRead(std::string_view("data/a.csv\0x", 12));
  ASSERT_FALSE(nul);
  EXPECT_TRUE(Mentions(nul.error(), "NUL"));
  auto longname = b().CreateNew("data/" + std::string(300, 'n') + ".csv");
  ASSERT_FALSE(longname);
  EXPECT_EQ(longname.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(longname.error(), "255-byte limit")) << longname.error().message();
  auto longpath = b().Stat(std::string(5000, 'a'));
  ASSERT_FALSE(longpath);
  EXPECT_EQ(longpath.error().code(), ErrorCode::kInvalidArgument);
}

TEST_P(BeneathTest, LinkThroughParentOfRootIsRefused) {
  // ".." inside a link target is resolved against the link's folder and may
  // not climb above the root, even to come back in.
  fs::create_symlink("../root/data/a.csv", root_ / "back-in.csv");
  EXPECT_EQ(b().OpenRead("back-in.csv").error().code(), ErrorCode::kInvalidArgument);
}

TEST_P(BeneathTest, LoopsAndDanglingLinksAreClearErrors) {
  fs::create_symlink("loop2", root_ / "loop1");
  fs::create_symlink("loop1", root_ / "loop2");
  fs::create_symlink("missing.csv", root_ / "dangling");
  auto loop = b().OpenRead("loop1");
  ASSERT_FALSE(loop);
  EXPECT_EQ(loop.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(loop.error(), "symbolic links")) << loop.error().message();
  EXPECT_EQ(b().OpenRead("dangling").error().code(), ErrorCode::kNotFound);
}

TEST_P(BeneathTest, FolderSwappedForALinkIsRefused) {
  fs::create_directories(root_ / "in");
  Write(root_ / "in" / "f.txt", "inside");
  ASSERT_TRUE(b().OpenRead("in/f.txt"));
  fs::rename(root_ / "in", root_ / "in.old");
  fs::create_directory_symlink(outside_, root_ / "in");
  EXPECT_EQ(b().OpenRead("in/secret.txt").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(b().MakeDirs("in").error().code(), ErrorCode::kInvalidArgument);
  // ... and a link swapped for a real folder is used as a folder.
  fs::remove(root_ / "in");
  fs::create_directories(root_ / "in");
  Write(root_ / "in" / "g.txt", "new");
  auto f = b().OpenRead("in/g.txt");
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(Slurp(f->fd.get()), "new");
}

TEST_P(BeneathTest, CreateCommitsIntoTheCheckedFolderEvenIfItIsSwappedMeanwhile) {
  auto file = b().CreateNew("up/x.txt");
  ASSERT_TRUE(file) << file.error().message();
  ASSERT_TRUE(file->Write("payload"));
  // The folder is replaced by a link out while the body is being written.
  fs::rename(root_ / "up", root_ / "up.old");
  fs::create_directory_symlink(outside_, root_ / "up");
  ASSERT_TRUE(file->Commit());
  EXPECT_TRUE(NothingNewOutside());
  std::ifstream in(root_ / "up.old" / "x.txt");
  std::string got((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(got, "payload");
}

TEST_P(BeneathTest, CreateNeverReplacesAFileOrALink) {
  EXPECT_EQ(b().CreateNew("data/a.csv").error().code(), ErrorCode::kAlreadyExists);
  fs::create_symlink(outside_ / "new.txt", root_ / "trap.txt");  // dangling, pointing out
  auto trap = b().CreateNew("trap.txt");
  ASSERT_FALSE(trap);
  EXPECT_EQ(trap.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_TRUE(NothingNewOutside());
  // Created after CreateNew: the commit loses, nothing is replaced.
  auto late = b().CreateNew("late.txt");
  ASSERT_TRUE(late);
  Write(root_ / "late.txt", "first");
  ASSERT_TRUE(late->Write("second"));
  auto st = late->Commit();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kAlreadyExists);
  std::ifstream in(root_ / "late.txt");
  std::string got((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(got, "first");
}

TEST_P(BeneathTest, RacingCreatorsGiveExactlyOneWinnerAndNoTemporaries) {
  constexpr int kRacers = 8;
  std::atomic<int> won{0}, lost{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      auto f = b().CreateNew("race/one.txt");
      if (!f) {
        if (f.error().code() == ErrorCode::kAlreadyExists) ++lost;
        return;
      }
      if (!f->Write("racer " + std::to_string(i))) return;
      auto st = f->Commit();
      if (st) ++won;
      else if (st.error().code() == ErrorCode::kAlreadyExists) ++lost;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), kRacers - 1);
  int files = 0;
  for (auto& e : fs::directory_iterator(root_ / "race")) {
    ++files;
    EXPECT_EQ(e.path().filename(), "one.txt");
  }
  EXPECT_EQ(files, 1);
}

TEST_P(BeneathTest, DroppedCreateLeavesNothing) {
  {
    auto f = b().CreateNew("gone/x.txt");
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->Write("half"));
  }
  EXPECT_TRUE(fs::is_empty(root_ / "gone"));
}

TEST_P(BeneathTest, ListsBytesNamesAndJudgesEachLink) {
  Write(root_ / "data" / "caf\xe9.csv", "y\n");
  fs::create_symlink(outside_ / "secret.txt", root_ / "data" / "passwd");
  fs::create_symlink("a.csv", root_ / "data" / "same.csv");
  fs::create_symlink("nowhere.csv", root_ / "data" / "dangling.csv");
  fs::create_directories(root_ / "data" / "sub");
  auto entries = b().List("data");
  ASSERT_TRUE(entries) << entries.error().message();
  std::map<std::string, DirEntry> by_name;
  for (auto& e : *entries) by_name.emplace(e.name, e);
  ASSERT_EQ(by_name.size(), 6u);
  EXPECT_EQ(by_name["a.csv"].type, EntryType::kFile);
  EXPECT_FALSE(by_name["a.csv"].error);
  EXPECT_EQ(by_name["caf\xe9.csv"].resolved, fs::canonical(root_) / "data" / "caf\xe9.csv");
  EXPECT_EQ(by_name["sub"].type, EntryType::kDir);
  ASSERT_TRUE(by_name["passwd"].error);
  EXPECT_TRUE(by_name["passwd"].is_link);
  EXPECT_TRUE(Mentions(*by_name["passwd"].error, "outside")) << by_name["passwd"].error->message();
  EXPECT_TRUE(by_name["passwd"].resolved.empty());
  EXPECT_FALSE(by_name["same.csv"].error);
  EXPECT_EQ(by_name["same.csv"].type, EntryType::kFile);
  EXPECT_EQ(by_name["same.csv"].resolved, fs::canonical(root_) / "data/a.csv");
  ASSERT_TRUE(by_name["dangling.csv"].error);
  EXPECT_EQ(by_name["dangling.csv"].error->code(), ErrorCode::kNotFound);
  // Sorted by bytes.
  for (size_t i = 1; i < entries->size(); ++i) EXPECT_LT((*entries)[i - 1].name, (*entries)[i].name);
}

TEST_P(BeneathTest, ForEachVisitsWhatListListsAndStopsWhenAsked) {
  for (int i = 0; i < 5; ++i) Write(root_ / "many" / ("f" + std::to_string(i)), "x");
  fs::create_symlink(outside_ / "secret.txt", root_ / "many" / "out");
  std::set<std::string> seen;
  ASSERT_TRUE(b().ForEach("many", [&](DirEntry&& e) {
    seen.insert(e.name);
    return true;
  }));
  EXPECT_EQ(seen.size(), 6u);
  int visited = 0;
  ASSERT_TRUE(b().ForEach("many", [&](DirEntry&&) { return ++visited < 2; }));
  EXPECT_EQ(visited, 2) << "stopped after the visitor said no";
  EXPECT_EQ(b().ForEach("../etc", [](DirEntry&&) { return true; }).error().code(), ErrorCode::kInvalidArgument);
}

TEST_P(BeneathTest, AFifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((root_ / "pipe").c_str(), 0600), 0);
  auto f = b().OpenRead("pipe");
  ASSERT_FALSE(f);
  EXPECT_TRUE(Mentions(f.error(), "not a regular file")) << f.error().message();
}

TEST_P(BeneathTest, MakeDirsCreatesMissingFoldersInside) {
  auto made = b().MakeDirs("a/b/c");
  ASSERT_TRUE(made) << made.error().message();
  EXPECT_EQ(*made, fs::canonical(root_) / "a/b/c");
  EXPECT_TRUE(fs::is_directory(root_ / "a/b/c"));
  Write(root_ / "file", "x");
  EXPECT_EQ(b().MakeDirs("file/sub").error().code(), ErrorCode::kInvalidArgument);
  // A dangling link out where a folder would be made is refused, not created through.
  fs::create_symlink(outside_ / "made-here", root_ / "trapdir");
  EXPECT_FALSE(b().MakeDirs("trapdir/x"));
  EXPECT_FALSE(fs::exists(outside_ / "made-here"));
}

TEST_P(BeneathTest, StatNamesTypesAndTheRootItself) {
  auto root = b().Stat("");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->type, EntryType::kDir);
  EXPECT_EQ(root->resolved, fs::canonical(root_));
  auto file = b().Stat("data/a.csv");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->type, EntryType::kFile);
  EXPECT_EQ(file->size, 4u);
  EXPECT_EQ(b().Stat("nope").error().code(), ErrorCode::kNotFound);
}

TEST(BeneathOpenTest, MissingRootIsNotFound) {
  auto b = Beneath::Open("/nonexistent/lote-root", "datastore 'gone'");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(Mentions(b.error(), "datastore 'gone'"));
}

}  // namespace
}  // namespace lote::storage
