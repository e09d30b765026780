#include "jobs/job_cleanup.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace lote::jobs {
namespace {

namespace fs = std::filesystem;

class JobCleanupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("lote-cleanup-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    dir_ = JobDir{root_};
    ASSERT_TRUE(dir_.Create());
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  fs::path root_;
  JobDir dir_;
};

TEST_F(JobCleanupTest, RemovesResultsStagingAndInputButKeepsLogs) {
  Write(dir_.results() / "batch-1.rows", "a,1\n");
  Write(dir_.staging() / "incoming-1", "xx");
  Write(dir_.input() / "f.csv", "x\n");
  Write(dir_.events(), "created\n");
  ASSERT_TRUE(HasReclaimableFiles(dir_));
  auto r = ReclaimJobFiles(dir_);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->files, 3);
  EXPECT_EQ(r->bytes, 4u + 2u + 2u);
  EXPECT_FALSE(fs::exists(dir_.results()));
  EXPECT_FALSE(fs::exists(dir_.staging()));
  EXPECT_FALSE(fs::exists(dir_.input()));
  EXPECT_TRUE(fs::exists(dir_.events()));
  EXPECT_FALSE(HasReclaimableFiles(dir_));
  // Again (a restart after a crash in between): nothing to do, no error.
  auto again = ReclaimJobFiles(dir_);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->files, 0);
}

TEST(UploadFolderOfTest, OnlyAnInvokesOwnUploadFolder) {
  auto doc = [](const std::string& ds, const std::string& rel) {
    return nlohmann::json{{"input", {{"kind", "path"}, {"datastore", ds}, {"rel", rel}}}};
  };
  EXPECT_EQ(UploadFolderOf(doc("workspaceblobstore", "LocalUpload/job-0123456789abcdef/data")),
            "LocalUpload/job-0123456789abcdef");
  EXPECT_EQ(UploadFolderOf(doc("workspaceblobstore", "LocalUpload/job-0123456789abcdef")),
            "LocalUpload/job-0123456789abcdef");
  // A data asset's upload, another datastore, a malformed name: never.
  EXPECT_EQ(UploadFolderOf(doc("workspaceblobstore", "LocalUpload/0123456789abcdef/data")), "");
  EXPECT_EQ(UploadFolderOf(doc("other", "LocalUpload/job-0123456789abcdef/data")), "");
  EXPECT_EQ(UploadFolderOf(doc("workspaceblobstore", "LocalUpload/job-0123456789abcdeX/data")), "");
  EXPECT_EQ(UploadFolderOf(doc("workspaceblobstore", "LocalUpload/job-0123456789abcdefg/data")), "");
  EXPECT_EQ(UploadFolderOf({{"input", {{"kind", "url"}, {"url", "http://x/"}}}}), "");
  EXPECT_EQ(UploadFolderOf(nlohmann::json::array()), "");
}

}  // namespace
}  // namespace lote::jobs

namespace lote::jobs {
namespace {

TEST_F(JobCleanupTest, ResultsAreKeptWhenTheirRowsReachedNoOutput) {
  JobSpec spec;
  spec.output.local_dir = (root_ / "out").string();
  spec.output.file_name = "predictions.csv";
  store::JobRecord rec;
  rec.state.status = store::JobStatus::kFailed;
  rec.counters.tasks_done = 3;
  EXPECT_FALSE(RowsAreSaved(rec, spec)) << "the output could not be written: the results are the only copy";
  Write(root_ / "out" / "predictions.partial.csv", "a\n");
  EXPECT_TRUE(RowsAreSaved(rec, spec)) << "the partial output holds them";
  fs::remove(root_ / "out" / "predictions.partial.csv");
  rec.state.output_rows = 3;
  EXPECT_TRUE(RowsAreSaved(rec, spec));
  rec.state.output_rows = -1;
  rec.counters.tasks_done = 0;
  EXPECT_TRUE(RowsAreSaved(rec, spec)) << "nothing was committed";

  Write(dir_.results() / "batch-1.rows", "a,1\n");
  Write(dir_.staging() / "incoming-1", "xx");
  auto r = ReclaimJobFiles(dir_, /*keep_results=*/true);
  ASSERT_TRUE(r);
  EXPECT_TRUE(fs::exists(dir_.results() / "batch-1.rows"));
  EXPECT_FALSE(fs::exists(dir_.staging()));
}

}  // namespace
}  // namespace lote::jobs
