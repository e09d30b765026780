#include "jobs/planner.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/fs_name.h"
#include "common/util.h"
#include "store/sqlite_store.h"

namespace lote::jobs {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class PlannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lote-plan-" + RandomHex(6));
    fs::create_directories(dir_ / "in" / "sub");
    store_ = std::move(*store::OpenSqliteStore({.path = ":memory:"}));
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) { std::ofstream(dir_ / rel) << text; }
  json Job(json mbs) {
    json job = {{"name", "j"}, {"endpoint", "e"}, {"status", "Preparing"},
                {"input", {{"kind", "path"}, {"path", (dir_ / "in").string()}}},
                {"settings", {{"mini_batch_size", mbs}}}};
    EXPECT_TRUE(store_->CreateJob(job));
    return job;
  }
  fs::path dir_;
  std::unique_ptr<store::SqliteStore> store_;
};

TEST_F(PlannerTest, SortsFilesOneLevelDeepAndCutsByCount) {
  for (const char* f : {"c.csv", "a.csv", "b.csv", "d.csv", "e.csv"}) Write(std::string("in/") + f, "x\n");
  Write("in/sub/deeper.csv", "x\n");
  auto plan = PlanJob(Job(2), dir_ / "dl", *store_);
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_EQ(plan->files, 5);
  EXPECT_EQ(plan->tasks, 3);
  auto tasks = *store_->ListTasks("j", 0, 10);
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(fs::path(tasks[0].items[0]["path"].get<std::string>()).filename(), "a.csv");
  EXPECT_EQ(fs::path(tasks[0].items[1]["path"].get<std::string>()).filename(), "b.csv");
  EXPECT_EQ(tasks[2].items.size(), 1u);
}

TEST_F(PlannerTest, SplitsLargeCsvIntoLineAlignedRangesWithHeader) {
  std::string text = "h1,h2\n";
  for (int i = 0; i < 100; ++i) text += std::to_string(i) + "," + std::to_string(i * i) + "\n";
  Write("in/big.csv", text);
  Write("in/small.csv", "h1,h2\n1,2\n");
  auto plan = PlanJob(Job("100B"), dir_ / "dl", *store_);
  ASSERT_TRUE(plan) << plan.error().message();
  auto tasks = *store_->ListTasks("j", 0, 1000);
  std::string rebuilt;
  for (const auto& t : tasks) {
    for (const auto& item : t.items) {
      if (!item.contains("offset")) continue;
      EXPECT_EQ(item["header"], "h1,h2");
      uint64_t off = item["offset"], len = item["length"];
      std::string part = text.substr(off, len);
      EXPECT_EQ(part.back(), '\n');
      rebuilt += part;
    }
  }
  EXPECT_EQ("h1,h2\n" + rebuilt, text);  // every row exactly once, in order
}

// Names and headers are bytes: a Latin-1 name, or a Latin-1 header carried
// into byte ranges, must become JSON text the store can hold (json::dump
// threw type_error.316 on them), and come back as the same bytes.
TEST_F(PlannerTest, NonUtf8NamesAndHeadersAreByteFields) {
  Write("in/caf\xe9.csv", "prix,caf\xe9\n1,2\n3,4\n5,6\n");
  Write("in/plain.csv", "a\n1\n");
  for (json mbs : {json(10), json("8B")}) {
    SCOPED_TRACE(mbs.dump());
    store_ = std::move(*store::OpenSqliteStore({.path = ":memory:"}));
    auto plan = PlanJob(Job(mbs), dir_ / "dl", *store_);
    ASSERT_TRUE(plan) << plan.error().message();
    auto tasks = *store_->ListTasks("j", 0, 10);
    std::vector<json> items;
    for (const auto& t : tasks) items.insert(items.end(), t.items.begin(), t.items.end());
    ASSERT_GE(items.size(), 2u);
    const json& latin = items[0];
    EXPECT_EQ(latin["path"], (dir_ / "in" / "caf\\xe9.csv").string());
    EXPECT_EQ(*ItemPath(latin), (dir_ / "in" / "caf\xe9.csv").string());
    if (mbs.is_string()) {
      EXPECT_EQ(latin["header"], "prix,caf\\xe9");
      EXPECT_EQ(**ItemHeader(latin), "prix,caf\xe9");
      EXPECT_EQ(latin["offset"], 10);
    }
    EXPECT_EQ(items.back(), json({{"path", (dir_ / "in" / "plain.csv").string()}}));
  }
}

TEST_F(PlannerTest, EmptyFolderIsAnError) {
  auto plan = PlanJob(Job(10), dir_ / "dl", *store_);
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message().find("holds no files"), std::string::npos);
}

}  // namespace
}  // namespace lote::jobs
