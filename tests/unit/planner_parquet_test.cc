#include "jobs/planner_parquet.h"

#include <gtest/gtest.h>

#include <cmath>
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

TEST(CutRowGroupsTest, RangesKnowTheBytesOfTheirColumnChunks) {
  std::vector<parquet::RowGroupInfo> groups = {
      {.rows = 1, .compressed_bytes = 10, .data_begin = 4, .data_end = 14},
      {.rows = 1, .compressed_bytes = 10, .data_begin = 14, .data_end = 24},
      {.rows = 1, .compressed_bytes = 0},  // no columns: no bytes
      {.rows = 1, .compressed_bytes = 30, .data_begin = 24, .data_end = 54}};
  EXPECT_EQ(CutRowGroups(groups, 25),
            (std::vector<RowGroupRange>{{0, 3, 4, 24}, {3, 1, 24, 54}}));
  EXPECT_EQ(CutRowGroups(std::span(groups).subspan(2, 1), 25),
            (std::vector<RowGroupRange>{{0, 1, 0, 0}}));
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

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The spans of a row-group item are all a reader of its row groups needs:
// a copy of the file holding only them (zeros elsewhere, as the sparse file
// a remote agent fetches them into) reads the same values.
TEST_F(PlannerParquetTest, RowGroupItemsNameTheOnlyBytesTheirReaderTouches) {
  fs::copy_file(kTwoGroups, dir_ / "in" / "a.parquet");
  ASSERT_TRUE(PlanJob(Job("native"), dir_ / "dl", *store_));
  const std::string whole = Slurp(kTwoGroups);
  auto original = parquet::ParquetFile::FromBytes("a.parquet", whole);
  ASSERT_TRUE(original) << original.error().message();
  std::vector<size_t> cols;
  for (size_t c = 0; c < (*original)->columns().size(); ++c) {
    if ((*original)->columns()[c].kind != parquet::ColumnKind::kString) cols.push_back(c);
  }
  ASSERT_FALSE(cols.empty());
  auto items = Items();
  ASSERT_EQ(items.size(), 2u);
  for (const json& item : items) {
    SCOPED_TRACE(item.dump());
    ASSERT_EQ(item["file_size"], whole.size());
    const json& spans = item["spans"];
    // The magic first (merged with the first row group's chunks), the footer
    // last, to the end of the file; less than the whole file.
    ASSERT_GE(spans.size(), 2u);
    EXPECT_EQ(spans[0][0], 0);
    EXPECT_EQ(spans.back()[0].get<uint64_t>() + spans.back()[1].get<uint64_t>(), whole.size());
    uint64_t total = 0, prev_end = 0;
    for (const json& s : spans) {
      EXPECT_TRUE(s[0].get<uint64_t>() == 0 || s[0].get<uint64_t>() > prev_end) << "in order, apart";
      prev_end = s[0].get<uint64_t>() + s[1].get<uint64_t>();
      total += s[1].get<uint64_t>();
    }
    EXPECT_LT(total, whole.size());
    std::string sparse(whole.size(), '\0');
    for (const json& s : spans) {
      const auto at = s[0].get<size_t>(), n = s[1].get<size_t>();
      sparse.replace(at, n, whole, at, n);
    }
    auto partial = parquet::ParquetFile::FromBytes("a.parquet", sparse);
    ASSERT_TRUE(partial) << (partial ? "" : partial.error().message());
    const auto g = item["row_group"].get<size_t>();
    const size_t rows = static_cast<size_t>((*original)->row_groups()[g].rows);
    std::vector<double> want(rows * cols.size()), got(rows * cols.size());
    ASSERT_TRUE((*original)->ReadDoubles(g, cols, want.data(), cols.size()));
    Status read = (*partial)->ReadDoubles(g, cols, got.data(), cols.size());
    ASSERT_TRUE(read) << read.error().message();
    for (size_t i = 0; i < want.size(); ++i) {
      if (std::isnan(want[i])) {
        EXPECT_TRUE(std::isnan(got[i])) << i;
      } else {
        EXPECT_EQ(got[i], want[i]) << i;
      }
    }
  }
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
