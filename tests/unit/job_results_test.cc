// Batched results (jobs/result_batch.h) and the output assembled from them
// (jobs/job_files.h AssembleOutput).
#include <gtest/gtest.h>

#include <fstream>

#include "common/util.h"
#include "jobs/job_files.h"
#include "jobs/output_assembly.h"
#include "jobs/result_batch.h"
#include "parquet/parquet_file.h"
#include "store/sqlite_store.h"

namespace lote::jobs {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class JobResultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lote-results-" + RandomHex(6));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return dir_ / name;
  }
  static std::string Batch(const json& results, const std::string& rows) {
    return json{{"worker", "node0/process000"}, {"results", results}}.dump() + "\n" + rows;
  }
  fs::path dir_;
};

TEST_F(JobResultsTest, ReadsEachResultsRange) {
  auto file = Write("b", Batch({{{"task", 3}, {"lease", "l3"}, {"succeeded", 2}, {"bytes", 8},
                                 {"header", "file,row"}, {"started_ms", 5}, {"elapsed_ms", 1}},
                                {{"task", 4}, {"lease", "l4"}, {"failed", 1}, {"bytes", 0}},
                                {{"task", 5}, {"lease", "l5"}, {"succeeded", 1}, {"bytes", 4}}},
                               "a,0\nb,1\nc,0\n"));
  auto batch = ReadResultBatch(file);
  ASSERT_TRUE(batch) << batch.error().message();
  EXPECT_EQ(batch->worker, "node0/process000");
  ASSERT_EQ(batch->results.size(), 3u);
  const auto& r = batch->results;
  std::string text = *ReadFile(file);
  EXPECT_EQ(text.substr(r[0].offset, r[0].bytes), "a,0\nb,1\n");
  EXPECT_EQ(r[0].header, "file,row");
  EXPECT_EQ(r[0].succeeded, 2);
  EXPECT_EQ(r[0].started_ms, 5);
  EXPECT_EQ(r[1].bytes, 0u);
  EXPECT_EQ(r[1].failed, 1);
  EXPECT_FALSE(r[1].header);
  EXPECT_EQ(text.substr(r[2].offset, r[2].bytes), "c,0\n");
}

TEST_F(JobResultsTest, RefusesBatchesThatDoNotAddUp) {
  auto expect_error = [&](const std::string& body, const std::string& needle) {
    auto batch = ReadResultBatch(Write("bad", body));
    ASSERT_FALSE(batch) << body;
    EXPECT_EQ(batch.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(batch.error().message().find(needle), std::string::npos) << batch.error().message();
  };
  expect_error(Batch({{{"task", 1}, {"lease", "l"}, {"bytes", 3}}}, "a,0\n"),
               "the rows are 4 bytes, the metadata's byte counts add up to 3");
  expect_error(Batch({{{"task", 1}, {"bytes", 0}}}, ""), "results[0].lease must be a non-empty string");
  expect_error(Batch({{{"task", 1}, {"lease", "l"}, {"bytes", -1}}}, ""),
               "results[0].bytes must be a non-negative integer");
  expect_error(Batch({{{"task", 1}, {"lease", "l"}}}, ""), "results[0].bytes is missing");
  expect_error("rows without metadata", "must start with a line of JSON metadata");
  expect_error("[1, 2]\n", "not a JSON object");
  expect_error("{}\n", "needs \"results\"");
}

// Byte counts whose sum wraps around 2^64 used to add up to the file's size,
// so a result's rows pointed 8 EiB past the end of the file (found by
// fuzz/result_batch_fuzzer).
TEST_F(JobResultsTest, RefusesByteCountsThatOverflow) {
  constexpr int64_t kHuge = INT64_MAX;
  auto batch = ReadResultBatch(Write("wrap", Batch({{{"task", 1}, {"lease", "a"}, {"bytes", kHuge}},
                                                    {{"task", 2}, {"lease", "b"}, {"bytes", kHuge}},
                                                    {{"task", 3}, {"lease", "c"}, {"bytes", 5}}},
                                                   "ab\n")));
  ASSERT_FALSE(batch) << "results[1] would start at byte " << batch->results[1].offset;
  EXPECT_EQ(batch.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(batch.error().message(),
            "results[0].bytes: 9223372036854775807 bytes of rows, but the body holds 3 bytes of "
            "rows after the metadata line");
}

// An empty body has no metadata line (and c, the last byte read, was read
// uninitialized).
TEST_F(JobResultsTest, RefusesAnEmptyBody) {
  auto batch = ReadResultBatch(Write("empty", ""));
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.error().message(), "results: the body must start with a line of JSON metadata");
}

OutputPlace Place(const fs::path& folder) {
  return OutputPlace{.dest = folder / "predictions.csv", .root = {}, .rel_dir = {}};
}

TEST_F(JobResultsTest, TheOutputFolderIsResolvedBeneathItsDatastoreAtTheEnd) {
  auto store = std::move(*store::OpenSqliteStore({.path = ":memory:"}));
  ASSERT_TRUE(store->CreateJob({{"name", "j"}, {"endpoint", "e"}}));
  ASSERT_TRUE(store->AddTasks("j", {json::array({{{"path", "x"}}})}));
  JobDir dir{dir_ / "job"};
  ASSERT_TRUE(dir.Create());
  std::ofstream(dir.results() / "batch-a.rows") << "r1\n";
  auto leased = *store->LeaseTasks("j", 1, "w", 1000, 0);
  store::TaskReport r;
  r.lease = leased[0].lease;
  r.ok = true;
  r.succeeded = 1;
  r.part = "batch-a.rows";
  r.part_offset = 0;
  r.part_length = 3;
  ASSERT_TRUE(store->FinishTasks("j", {{leased[0].id, r}}, 3));
  // After the invoke, someone who can write to the datastore swaps the
  // output folder for a link to a folder outside it.
  fs::create_directories(dir_ / "ds");
  fs::create_directories(dir_ / "elsewhere");
  fs::create_directory_symlink(dir_ / "elsewhere", dir_ / "ds" / "out");
  OutputPlace place{.dest = dir_ / "ds" / "out" / "predictions.csv", .root = dir_ / "ds", .rel_dir = "out"};
  auto refused = AssembleOutput(dir, "j", *store, place, std::string(""));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument) << refused.error().message();
  EXPECT_TRUE(fs::is_empty(dir_ / "elsewhere"));
  // A real folder beneath the datastore is fine.
  fs::remove(dir_ / "ds" / "out");
  auto ok = AssembleOutput(dir, "j", *store, place, std::string(""));
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(*ReadFile(dir_ / "ds" / "out" / "predictions.csv"), "r1\n");
}

TEST_F(JobResultsTest, AssemblesRowsFromBatchFilesInTaskOrder) {
  auto store = std::move(*store::OpenSqliteStore({.path = ":memory:"}));
  ASSERT_TRUE(store->CreateJob({{"name", "j"}, {"endpoint", "e"}, {"status", "Running"}}));
  std::vector<json> items(4, json::array({{{"path", "x"}}}));
  ASSERT_TRUE(store->AddTasks("j", items));
  JobDir dir{dir_ / "job"};
  ASSERT_TRUE(dir.Create());
  // Two workers' batches interleave: tasks 1 and 3 in one file, 2 in another;
  // task 4 uses the one-file-per-task layout of earlier versions.
  std::ofstream(dir.results() / "batch-a.rows") << "meta\nt1,a\nt3,a\nt3,b\n";
  std::ofstream(dir.results() / "batch-b.rows") << "meta\nt2,a\n";
  std::ofstream(dir.part(4)) << "t4,a\n";
  auto leased = *store->LeaseTasks("j", 4, "w", 1000, 0);
  auto report = [&](int i, std::string part, int64_t off, int64_t len, int64_t rows) {
    store::TaskReport r;
    r.lease = leased[static_cast<size_t>(i)].lease;
    r.ok = true;
    r.succeeded = rows;
    r.part = std::move(part);
    r.part_offset = off;
    r.part_length = len;
    r.header = "file,row";
    return store::TaskCommit{leased[static_cast<size_t>(i)].id, r};
  };
  store::TaskCommit legacy = report(3, "", 0, -1, 1);
  auto ok = store->FinishTasks("j", {report(0, "batch-a.rows", 5, 5, 1), report(1, "batch-b.rows", 5, 5, 1),
                                     report(2, "batch-a.rows", 10, 10, 2), legacy}, 3);
  ASSERT_TRUE(ok);
  ASSERT_EQ(*ok, std::vector<store::CommitOutcome>(4, store::CommitOutcome::kAccepted));
  auto header = store->GetJob("j")->state.output_header;
  ASSERT_TRUE(header);
  EXPECT_EQ(*header, "file,row");
  auto rows = AssembleOutput(dir, "j", *store, Place(dir_ / "out"), header);
  ASSERT_TRUE(rows) << rows.error().message();
  EXPECT_EQ(rows->rows, 5);
  EXPECT_TRUE(rows->missing.empty());
  EXPECT_EQ(*ReadFile(dir_ / "out" / "predictions.csv"), "file,row\nt1,a\nt2,a\nt3,a\nt3,b\nt4,a\n");

  // Running it again (a crash before Completed was recorded) finds its own
  // output and counts it; nothing is rewritten.
  auto again = AssembleOutput(dir, "j", *store, Place(dir_ / "out"), header);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->rows, 5);

  // A file that appeared there meanwhile is never overwritten.
  fs::create_directories(dir_ / "out3");
  std::ofstream(dir_ / "out3" / "predictions.csv") << "someone else's\n";
  auto taken = AssembleOutput(dir, "j", *store, Place(dir_ / "out3"), header);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(*ReadFile(dir_ / "out3" / "predictions.csv"), "someone else's\n");

  // A results file that lost rows names the mini-batches to run again, and
  // nothing is written.
  fs::resize_file(dir.results() / "batch-a.rows", 12);
  auto cut = AssembleOutput(dir, "j", *store, Place(dir_ / "out2"), header);
  ASSERT_TRUE(cut) << cut.error().message();
  EXPECT_EQ(cut->missing, (std::vector<int64_t>{3}));
  EXPECT_FALSE(fs::exists(dir_ / "out2" / "predictions.csv"));
}

// output_format parquet: the rows are assembled, converted and linked as
// predictions.parquet; no temporary file is left; a rerun finds its link.
TEST_F(JobResultsTest, AssemblesAParquetOutput) {
  auto store = std::move(*store::OpenSqliteStore({.path = ":memory:"}));
  ASSERT_TRUE(store->CreateJob({{"name", "j"}, {"endpoint", "e"}, {"status", "Running"}}));
  ASSERT_TRUE(store->AddTasks("j", std::vector<json>(2, json::array({{{"path", "x"}}}))));
  JobDir dir{dir_ / "job"};
  ASSERT_TRUE(dir.Create());
  std::ofstream(dir.results() / "batch-a.rows") << "meta\na.csv,0,1.5\nb.csv,0,2.5\nb.csv,1,\n";
  auto leased = *store->LeaseTasks("j", 2, "w", 1000, 0);
  auto report = [&](int i, int64_t off, int64_t len, int64_t rows) {
    store::TaskReport r;
    r.lease = leased[static_cast<size_t>(i)].lease;
    r.ok = true;
    r.succeeded = rows;
    r.part = "batch-a.rows";
    r.part_offset = off;
    r.part_length = len;
    r.header = "file,row,prediction";
    return store::TaskCommit{leased[static_cast<size_t>(i)].id, r};
  };
  ASSERT_TRUE(store->FinishTasks("j", {report(0, 5, 12, 1), report(1, 17, 21, 2)}, 3));
  OutputPlace place = Place(dir_ / "out");
  place.dest = dir_ / "out" / "predictions.parquet";
  place.format = OutputFormat::kParquet;
  // A crash left a half-written rows file: it is simply rewritten.
  fs::create_directories(dir_ / "out");
  std::ofstream(dir_ / "out" / (AssemblyTempName(place.dest, "j") + ".rows")) << "garbage";
  const std::optional<std::string> header = "file,row,prediction";
  auto rows = AssembleOutput(dir, "j", *store, place, header);
  ASSERT_TRUE(rows) << rows.error().message();
  EXPECT_EQ(rows->rows, 3);
  auto file = parquet::ParquetFile::Open(place.dest);
  ASSERT_TRUE(file) << file.error().message();
  EXPECT_EQ((*file)->num_rows(), 3);
  ASSERT_EQ((*file)->columns().size(), 3u);
  EXPECT_EQ((*file)->columns()[1].TypeName(), "INT64");
  EXPECT_EQ((*file)->columns()[2].TypeName(), "DOUBLE");
  auto names = (*file)->ReadStrings(0, 0);
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, (std::vector<std::optional<std::string>>{"a.csv", "b.csv", "b.csv"}));
  // Only the output and the temporary file it is linked from (removed once
  // Completed is recorded) are there.
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir_ / "out")) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{AssemblyTempName(place.dest, "j"), "predictions.parquet"}));
  auto again = AssembleOutput(dir, "j", *store, place, header);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->rows, 3);
  ASSERT_TRUE(RemoveAssemblyTemp(place, "j"));
  EXPECT_TRUE(fs::exists(place.dest));
}

}  // namespace
}  // namespace lote::jobs
