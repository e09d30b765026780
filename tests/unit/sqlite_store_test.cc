#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "common/util.h"

namespace lote::store {
namespace {

std::unique_ptr<Store> Open() {
  auto s = OpenSqliteStore({.path = ":memory:"});
  EXPECT_TRUE(s.has_value());
  return std::move(*s);
}

TEST(SqliteStoreTest, InsertGetListReplaceDelete) {
  auto s = Open();
  ASSERT_TRUE(s->Insert(Kind::kCompute, "a", {{"name", "a"}}));
  ASSERT_TRUE(s->Insert(Kind::kCompute, "b", {{"name", "b"}}));
  ASSERT_TRUE(s->Insert(Kind::kModel, "a/1", {{"name", "a"}}));
  EXPECT_EQ((*s->Get(Kind::kCompute, "a"))["name"], "a");
  EXPECT_EQ(s->List(Kind::kCompute)->size(), 2u);
  EXPECT_EQ(s->List(Kind::kModel, "a/")->size(), 1u);
  EXPECT_EQ(s->List(Kind::kModel, "b/")->size(), 0u);
  ASSERT_TRUE(s->Replace(Kind::kCompute, "a", {{"name", "a"}, {"x", 1}}));
  EXPECT_EQ((*s->Get(Kind::kCompute, "a"))["x"], 1);
  ASSERT_TRUE(s->Delete(Kind::kCompute, "a"));
  auto missing = s->Get(Kind::kCompute, "a");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message(), "compute 'a' not found");
  EXPECT_EQ(s->Delete(Kind::kCompute, "a").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(s->Replace(Kind::kCompute, "zz", {}).error().code(), ErrorCode::kNotFound);
}

TEST(SqliteStoreTest, DuplicateInsertIsAlreadyExists) {
  auto s = Open();
  ASSERT_TRUE(s->Insert(Kind::kEndpoint, "ep", {}));
  auto st = s->Insert(Kind::kEndpoint, "ep", {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(st.error().message(), "endpoint 'ep' already exists");
}

TEST(SqliteStoreTest, TransactionRollsBackOnError) {
  auto s = Open();
  auto st = s->Transaction([&]() -> Status {
    LOTE_TRY(s->Insert(Kind::kCompute, "x", {}));
    return InvalidArgument("nope");
  });
  EXPECT_EQ(st.error().message(), "nope");
  EXPECT_EQ(s->Get(Kind::kCompute, "x").error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(s->Transaction([&]() -> Status { return s->Insert(Kind::kCompute, "x", {}); }));
  EXPECT_TRUE(s->Get(Kind::kCompute, "x").has_value());
}

TEST(SqliteStoreTest, ConcurrentInsertsOfOneKeyHaveOneWinner) {
  auto dir = std::filesystem::temp_directory_path() / ("lote-store-" + RandomHex(6));
  std::filesystem::create_directories(dir);
  auto s = std::move(*OpenSqliteStore({.path = dir / "meta.db"}));
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (s->Insert(Kind::kEndpoint, "same", {})) ++wins;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  s.reset();
  // Reopening keeps the data and does not re-run migrations.
  auto again = std::move(*OpenSqliteStore({.path = dir / "meta.db"}));
  EXPECT_TRUE(again->Get(Kind::kEndpoint, "same").has_value());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lote::store
