// One server per home (HomeLock) and a store that belongs to its home
// (CheckMetadataStoreBelongs, OpenSqliteStore's schema check): real locks,
// real processes killed with SIGKILL, real files.
#include "common/home.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>

#include "common/util.h"
#include "store/sqlite_store.h"

namespace lote {
namespace {

namespace fs = std::filesystem;

class HomeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_.root = fs::temp_directory_path() / ("lote-home-" + RandomHex(6));
    fs::create_directories(home_.root);
  }
  void TearDown() override { fs::remove_all(home_.root); }
  void Write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
  HomeLayout home_;
};

TEST_F(HomeTest, ASecondLockOnTheSameHomeIsRefusedNamingTheFirst) {
  auto first = HomeLock::Acquire(home_);
  ASSERT_TRUE(first) << first.error().message();
  auto second = HomeLock::Acquire(home_);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(second.error().message().find("is in use by another lote serve (pid " + std::to_string(::getpid()) + ")"),
            std::string::npos)
      << second.error().message();
  // Once the owner has written server.json, its URL is named too.
  Write(home_.server_info(), R"({"url": "http://127.0.0.1:8123", "pid": 4242})");
  auto third = HomeLock::Acquire(home_);
  ASSERT_FALSE(third);
  EXPECT_NE(third.error().message().find("(pid 4242, http://127.0.0.1:8123)"), std::string::npos)
      << third.error().message();
}

TEST_F(HomeTest, TheLockGoesWithItsOwner) {
  { auto first = HomeLock::Acquire(home_); ASSERT_TRUE(first); }
  EXPECT_TRUE(HomeLock::Acquire(home_));
  // A process killed with SIGKILL releases it too.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = HomeLock::Acquire(home_);
    char c = lock ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1) _exit(2);
    ::pause();
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  EXPECT_FALSE(HomeLock::Acquire(home_));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(HomeLock::Acquire(home_));
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_F(HomeTest, ChildProcessesDoNotInheritTheLock) {
  auto lock = HomeLock::Acquire(home_);
  ASSERT_TRUE(lock);
  // An agent-like child that outlives its server must not keep the home locked.
  int exec_done[2];
  ASSERT_EQ(::pipe2(exec_done, O_CLOEXEC), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(exec_done[1]);
  char c;
  ASSERT_EQ(::read(exec_done[0], &c, 1), 0);  // EOF: the child has exec'ed
  ::close(exec_done[0]);
  { HomeLock gone = std::move(*lock); }  // the server exits
  auto next = HomeLock::Acquire(home_);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(next) << next.error().message();
}

TEST_F(HomeTest, AFreshHomeAndAnEmptyStoreWithoutContentPass) {
  EXPECT_TRUE(CheckMetadataStoreBelongs(home_));
  Write(home_.metadata_db(), "");
  EXPECT_TRUE(CheckMetadataStoreBelongs(home_));
  // Secrets alone next to a missing store: a first start that stopped early.
  fs::remove(home_.metadata_db());
  Write(home_.admin_token(), "x");
  EXPECT_TRUE(CheckMetadataStoreBelongs(home_));
}

TEST_F(HomeTest, AnEmptyStoreNextToContentIsRefused) {
  Write(home_.metadata_db(), "");
  Write(home_.admin_token(), "secret");
  Write(home_.models() / "m" / "1" / "model.json", "{}");
  auto st = CheckMetadataStoreBelongs(home_);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(st.error().message().find("metadata store '" + home_.metadata_db().string() + "' is empty (0 bytes)"),
            std::string::npos)
      << st.error().message();
  EXPECT_NE(st.error().message().find("admin_token, models/"), std::string::npos) << st.error().message();
}

TEST_F(HomeTest, AMissingStoreNextToJobsIsRefused) {
  Write(home_.jobs() / "j1" / "events.log", "x");
  auto st = CheckMetadataStoreBelongs(home_);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("is missing"), std::string::npos) << st.error().message();
}

TEST_F(HomeTest, AFileThatIsNotSqliteIsRefused) {
  Write(home_.metadata_db(), "this is not a database, just text that someone copied here\n");
  auto st = CheckMetadataStoreBelongs(home_);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("is not an SQLite database"), std::string::npos) << st.error().message();
}

TEST_F(HomeTest, SomeoneElsesSqliteDatabaseIsRefusedAndLotesReopens) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(home_.metadata_db().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE users(id INTEGER, name TEXT); INSERT INTO users VALUES (1, 'a');",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_TRUE(CheckMetadataStoreBelongs(home_));  // an SQLite file: the store itself judges it
  auto store = store::OpenSqliteStore({.path = home_.metadata_db()});
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(store.error().message().find("is an SQLite database but not lote's"), std::string::npos)
      << store.error().message();
  EXPECT_NE(store.error().message().find("tables: users"), std::string::npos) << store.error().message();
  // Nothing was migrated into it.
  ASSERT_EQ(sqlite3_open(home_.metadata_db().c_str(), &db), SQLITE_OK);
  int tables = 0;
  sqlite3_exec(
      db, "SELECT count(*) FROM sqlite_master WHERE type='table'",
      [](void* n, int, char** v, char**) {
        *static_cast<int*>(n) = std::atoi(v[0]);
        return 0;
      },
      &tables, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(tables, 1);
  // lote's own store opens again and again.
  fs::remove(home_.metadata_db());
  ASSERT_TRUE(store::OpenSqliteStore({.path = home_.metadata_db()}));
  EXPECT_TRUE(store::OpenSqliteStore({.path = home_.metadata_db()}));
}

}  // namespace
}  // namespace lote
