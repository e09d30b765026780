// The output assembled while a job runs (jobs/early_assembly.h) and the final
// assembly that goes on from it (jobs/output_assembly.h).
#include <gtest/gtest.h>

#include <fstream>

#include "common/util.h"
#include "jobs/early_assembly.h"
#include "jobs/output_assembly.h"
#include "store/sqlite_store.h"

namespace lote::jobs {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A job of five one-row mini-batches whose rows are in one results file
// ("r1\n" … "r5\n", 3 bytes each), committed one by one by Commit.
class EarlyAssemblyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("lote-early-" + RandomHex(6));
    fs::create_directories(root_);
    store_ = std::move(*store::OpenSqliteStore({.path = ":memory:"}));
    ASSERT_TRUE(store_->CreateJob({{"name", "j"}, {"endpoint", "e"}, {"status", "Running"}}));
    ASSERT_TRUE(store_->AddTasks("j", std::vector<json>(5, json::array({{{"path", "x"}}}))));
    dir_ = JobDir{root_ / "job"};
    ASSERT_TRUE(dir_.Create());
    std::ofstream(dir_.results() / "batch-a.rows") << "r1\nr2\nr3\nr4\nr5\n";
    leased_ = *store_->LeaseTasks("j", 5, "w", 1'000'000, 0);
    ASSERT_EQ(leased_.size(), 5u);
  }
  void TearDown() override { fs::remove_all(root_); }

  // Commits mini-batch i (1-based); ok=false fails it for good.
  void Commit(int i, bool ok = true) {
    const auto& t = leased_[static_cast<size_t>(i - 1)];
    store::TaskReport r;
    r.lease = t.lease;
    r.ok = ok;
    r.succeeded = ok ? 1 : 0;
    r.failed = ok ? 0 : 1;
    r.error = ok ? "" : "boom";
    if (ok) {
      r.part = "batch-a.rows";
      r.part_offset = 3 * (i - 1);
      r.part_length = 3;
      r.header = "name";
    }
    ASSERT_TRUE(store_->FinishTasks("j", {{t.id, r}}, /*max_retries=*/0));
  }
  std::optional<std::string> Header() { return store_->GetJob("j")->state.output_header; }
  OutputPlace Place() const { return OutputPlace{.dest = root_ / "out" / "predictions.csv", .root = {}, .rel_dir = {}}; }
  std::string TempFile() const { return (root_ / "out" / AssemblyTempName(Place().dest, "j")).string(); }

  fs::path root_;
  std::unique_ptr<store::JobStore> store_;
  JobDir dir_{fs::path()};
  std::vector<store::Task> leased_;
};

TEST_F(EarlyAssemblyTest, PassesCopyTheSettledPrefixAndTheFinalAssemblyGoesOn) {
  EarlyAssembly early(dir_, "j", Place());
  Commit(1);
  Commit(3);  // 2 is still leased: 3 waits
  ASSERT_TRUE(early.TryClaim(1000, 100));
  EXPECT_FALSE(early.TryClaim(1000, 100)) << "one pass at a time";
  ASSERT_TRUE(early.Pass(*store_, Header()));
  EXPECT_EQ(*ReadFile(TempFile()), "name\nr1\n");
  EXPECT_FALSE(early.TryClaim(1050, 100)) << "passes are at least 100 ms apart";
  Commit(2, /*ok=*/false);  // failed for good: passed over
  ASSERT_TRUE(early.TryClaim(1100, 100));
  ASSERT_TRUE(early.Pass(*store_, Header()));
  EXPECT_EQ(*ReadFile(TempFile()), "name\nr1\nr3\n");
  Commit(4);
  Commit(5);
  auto cursor = early.Take();
  ASSERT_TRUE(cursor);
  EXPECT_EQ(cursor->after, 3);
  EXPECT_FALSE(early.TryClaim(5000, 100)) << "no pass after Take";
  auto out = AssembleOutput(dir_, "j", *store_, Place(), Header(), std::move(cursor));
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_EQ(out->rows, 4);
  EXPECT_EQ(*ReadFile(Place().dest), "name\nr1\nr3\nr4\nr5\n");
}

TEST_F(EarlyAssemblyTest, AStaleCursorIsNotTakenAndTheAssemblyStartsOver) {
  for (int i = 1; i <= 5; ++i) Commit(i);
  {
    // The file was changed behind the cursor's back: it holds more than the cursor says.
    EarlyAssembly early(dir_, "j", Place());
    ASSERT_TRUE(early.TryClaim(0, 0));
    ASSERT_TRUE(early.Pass(*store_, Header()));
    std::ofstream(TempFile(), std::ios::app) << "junk\n";
    auto out = AssembleOutput(dir_, "j", *store_, Place(), Header(), early.Take());
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_EQ(*ReadFile(Place().dest), "name\nr1\nr2\nr3\nr4\nr5\n");
    fs::remove(Place().dest);
    ASSERT_TRUE(RemoveAssemblyTemp(Place(), "j"));
  }
  {
    // The name now leads to another file (replaced by someone): not taken either.
    EarlyAssembly early(dir_, "j", Place());
    ASSERT_TRUE(early.TryClaim(0, 0));
    ASSERT_TRUE(early.Pass(*store_, Header()));
    fs::remove(TempFile());
    std::ofstream(TempFile()) << "name\nr1\nr2\nr3\nr4\nr5\n";  // same size, another inode
    auto out = AssembleOutput(dir_, "j", *store_, Place(), Header(), early.Take());
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_EQ(*ReadFile(Place().dest), "name\nr1\nr2\nr3\nr4\nr5\n");
  }
}

TEST_F(EarlyAssemblyTest, RowsLostBehindAndAfterTheHeadStartAreAllNamedAtOnce) {
  Commit(1);
  Commit(2);
  EarlyAssembly early(dir_, "j", Place());
  ASSERT_TRUE(early.TryClaim(0, 0));
  ASSERT_TRUE(early.Pass(*store_, Header()));
  for (int i = 3; i <= 5; ++i) Commit(i);
  fs::resize_file(dir_.results() / "batch-a.rows", 0);  // every row lost (a power cut)
  auto out = AssembleOutput(dir_, "j", *store_, Place(), Header(), early.Take());
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_EQ(out->missing, (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_FALSE(fs::exists(Place().dest));
  EXPECT_FALSE(fs::exists(TempFile()));
}

TEST_F(EarlyAssemblyTest, MissingRowsGiveUpAndRemoveTheFile) {
  Commit(1);
  Commit(2);
  fs::resize_file(dir_.results() / "batch-a.rows", 4);  // r2 lost
  EarlyAssembly early(dir_, "j", Place());
  ASSERT_TRUE(early.TryClaim(0, 0));
  auto st = early.Pass(*store_, Header());
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("missing"), std::string::npos) << st.error().message();
  EXPECT_FALSE(early.TryClaim(1000, 0)) << "given up";
  EXPECT_FALSE(early.Take());
  EXPECT_FALSE(fs::exists(TempFile())) << "giving up gives the space back";
  ASSERT_TRUE(early.Discard());
}

TEST_F(EarlyAssemblyTest, DiscardRemovesTheFile) {
  Commit(1);
  EarlyAssembly early(dir_, "j", Place());
  ASSERT_TRUE(early.TryClaim(0, 0));
  ASSERT_TRUE(early.Pass(*store_, Header()));
  EXPECT_TRUE(fs::exists(TempFile()));
  ASSERT_TRUE(early.Discard());
  EXPECT_FALSE(fs::exists(TempFile()));
}

TEST_F(EarlyAssemblyTest, AStopArrivingDuringAPassEndsIt) {
  for (int i = 1; i <= 5; ++i) Commit(i);
  EarlyAssembly early(dir_, "j", Place());
  ASSERT_TRUE(early.Discard());  // e.g. the job was canceled before the pass ran
  ASSERT_TRUE(early.TryClaim(0, 0) == false);
  ASSERT_TRUE(early.Pass(*store_, Header()));
  EXPECT_FALSE(fs::exists(TempFile())) << "a stopped assembly writes nothing";
}

}  // namespace
}  // namespace lote::jobs
