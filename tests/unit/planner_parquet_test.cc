#include "jobs/planner_parquet.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/util.h"
#include "jobs/planner.h"
#include "store/sqlite_store.h"

namespace lote::jobs {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kTwoGroups = fs::path(LOTE_SOURCE_DIR) / "tests/data/parquet/types_zstd_v1.parquet";

std::vector<parquet::RowGroupInfo> Groups(std::initializer_list<int64_t> sizes) {
  std::vector<parquet::RowGroupInfo> out;
  for (int64_t s : sizes) out.push_back({.rows = 10, .compressed_bytes = s});
  return out;
}

TEST(CutRowGroupsTest, GroupsConsecutiveRowGroupsUpToTheTarget) {
  auto groups = Groups({10, 10, 10, 30, 5});
  EXPECT_EQ(CutRowGroups(groups, 25),
            (std::vector<RowGroupRange>{{0, 2}, {2, 1}, {3, 1}, {4, 1}}));
  EXPECT_EQ(CutRowGroups(groups, 1000), (std::vector<RowGroupRange>{{0, 5}}));
  // Zero-sized target: one row group each, never an empty range.
  EXPECT_EQ(CutRowGroups(groups, 0).size(), 5u);
  EXPECT_TRUE(CutRowGroups({}, 10).empty());
}

TEST(CutRowGroupsTest, ParquetNamesAndRuntimes) {
  EXPECT_TRUE(IsParquetName("/d/Trips.PARQUET"));
  EXPECT_FALSE(IsParquetName("/d/.parquet"));
  EXPECT_FALSE(IsParquetName("trips.parquet.csv"));
  EXPECT_TRUE(RuntimeReadsRowGroups({{"runtime", {{"kind", "native"}, {"options", {{"kind", "xgboost"}}}}}}));
  EXPECT_FALSE(RuntimeReadsRowGroups({{"runtime", {{"kind", "native"}, {"options", {{"kind", "plugin"}}}}}}));
  EXPECT_FALSE(RuntimeReadsRowGroups({{"runtime", {{"kind", "python"}, {"options", json::object()}}}}));
  EXPECT_TRUE(RuntimeReadsRowGroups(
      {{"runtime", {{"kind", "python"}, {"options", {{"driver", "mlflow_sklearn"}, {"layout", "lote"}}}}}}));
  EXPECT_FALSE(RuntimeReadsRowGroups(json::object()));
}

class PlannerParquetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lote-plan-pq-" + RandomHex(6));
    fs::create_directories(dir_ / "in");
    store_ = std::move(*store::OpenSqliteStore({.path = ":memory:"}));
  }
  void TearDown() override { fs::remove_all(dir_); }
  json Job(const std::string& runtime_kind) {
    json job = {{"name", "j"}, {"endpoint", "e"}, {"status", "Preparing"},
                {"input", {{"kind", "path"}, {"path", (dir_ / "in").string()}}},
                {"settings", {{"mini_batch_size", "100B"}}},
                {"runtime", {{"kind", runtime_kind}, {"options", {{"kind", "mlflow_xgboost"}}}}}};
    EXPECT_TRUE(store_->CreateJob(job));
    return job;
  }
  std::vector<json> Items() {
    std::vector<json> out;
    auto tasks = store_->ListTasks("j", 0, 1000);
    EXPECT_TRUE(tasks);
    for (const auto& t : *tasks) {
      EXPECT_EQ(t.items.size(), 1u);
      out.push_back(t.items[0]);
    }
    return out;
  }
  fs::path dir_;
  std::unique_ptr<store::SqliteStore> store_;
};

TEST_F(PlannerParquetTest, LargeFileIsCutIntoRowGroupItemsForTheNativeScorer) {
  fs::copy_file(kTwoGroups, dir_ / "in" / "a.parquet");
  // A corrupt file is kept whole (its worker fails it), and does not stop
  // the next file from being cut.
  std::ofstream(dir_ / "in" / "b.parquet") << std::string(500, 'x');
  fs::copy_file(kTwoGroups, dir_ / "in" / "c.parquet");
  auto plan = PlanJob(Job("native"), dir_ / "dl", *store_);
  ASSERT_TRUE(plan) << plan.error().message();
  auto items = Items();
  ASSERT_EQ(items.size(), 5u);
  for (size_t i : {0u, 1u, 3u, 4u}) {
    EXPECT_EQ(items[i]["row_group"], i % 3 == 0 ? 0 : 1) << items[i].dump();
    EXPECT_EQ(items[i]["row_groups"], 1) << items[i].dump();
  }
  EXPECT_EQ(fs::path(items[2]["path"].get<std::string>()).filename(), "b.parquet");
  EXPECT_FALSE(items[2].contains("row_group"));
  EXPECT_EQ(fs::path(items[4]["path"].get<std::string>()).filename(), "c.parquet");
}

TEST_F(PlannerParquetTest, WholeFileWorkersGetWholeFiles) {
  fs::copy_file(kTwoGroups, dir_ / "in" / "a.parquet");
  auto plan = PlanJob(Job("python"), dir_ / "dl", *store_);
  ASSERT_TRUE(plan) << plan.error().message();
  auto items = Items();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_FALSE(items[0].contains("row_group"));
}

}  // namespace
}  // namespace lote::jobs
