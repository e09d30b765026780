// Results by file (docs/agent-api.md, "Results by file"): the agent writes a
// batch into the job's staging folder (agent/results_file.h) and the server
// takes it only after treating the posted name as hostile
// (jobs/results_file.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>

#include "agent/results_file.h"
#include "common/results_file_name.h"
#include "common/util.h"
#include "jobs/result_batch.h"
#include "jobs/results_file.h"

namespace lote {
namespace {

namespace fs = std::filesystem;

class ResultsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("lote-results-file-" + RandomHex(6));
    staging_ = root_ / "staging";
    fs::create_directories(staging_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(staging_, fs::perms::owner_all, ec);
    fs::remove_all(root_, ec);
  }
  fs::path Write(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  // A refusal's code, field and a piece of its message.
  void ExpectRefused(std::string_view name, uint64_t bytes, ErrorCode code, const std::string& field,
                     const std::string& needle) {
    auto claimed = jobs::ClaimResultsFile(staging_, name, bytes);
    ASSERT_FALSE(claimed) << name;
    EXPECT_EQ(claimed.error().code(), code) << claimed.error().message();
    EXPECT_EQ(claimed.error().field(), field) << claimed.error().message();
    EXPECT_NE(claimed.error().message().find(needle), std::string::npos) << claimed.error().message();
  }
  fs::path root_, staging_;
};

const std::string kBatch =
    R"({"worker":"node0/process001","results":[{"task":1,"lease":"l","succeeded":2,"bytes":8}]})"
    "\n"
    "a,0\nb,1\n";

TEST_F(ResultsFileTest, NamesAreExactlyThePattern) {
  std::string good = NewResultsFileName();
  EXPECT_TRUE(IsResultsFileName(good)) << good;
  EXPECT_NE(good, NewResultsFileName());
  for (const std::string& bad : std::vector<std::string>{std::string(""), std::string("agent-"), good + "0", good.substr(0, good.size() - 1),
                          "agent-" + std::string(32, 'A'), "agent-" + std::string(31, 'a') + "/",
                          "../" + good.substr(3), "agent-" + std::string(30, 'a') + "..", "incoming-0123456789abcdef",
                          "Agent-" + std::string(32, 'a'), std::string("agent-") + std::string(31, '0') + '\0',
                          "agent-" + std::string(32, 'g')}) {
    EXPECT_FALSE(IsResultsFileName(bad)) << bad;
  }
}

TEST_F(ResultsFileTest, AWrittenBatchIsClaimedAndReadsBack) {
  auto written = agent::WriteResultsFile(staging_, {kBatch.substr(0, 10), kBatch.substr(10)});
  ASSERT_TRUE(written) << written.error().message();
  EXPECT_EQ(written->bytes, kBatch.size());
  EXPECT_TRUE(IsResultsFileName(written->name));
  struct stat st{};
  ASSERT_EQ(stat(written->path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto claimed = jobs::ClaimResultsFile(staging_, written->name, written->bytes);
  ASSERT_TRUE(claimed) << claimed.error().message();
  EXPECT_FALSE(fs::exists(written->path));  // renamed: a second claim cannot take it
  EXPECT_EQ(claimed->parent_path(), staging_);
  EXPECT_EQ(*ReadFile(*claimed), kBatch);
  auto batch = jobs::ReadResultBatch(*claimed);
  ASSERT_TRUE(batch) << batch.error().message();
  EXPECT_EQ(batch->results.at(0).bytes, 8u);
  // A retry after a lost answer: the file is gone, NotFound naming the field.
  ExpectRefused(written->name, written->bytes, ErrorCode::kNotFound, "file", "is not in the job's staging folder");
}

TEST_F(ResultsFileTest, WritingIntoAFolderThatCannotTakeItFails) {
  auto missing = agent::WriteResultsFile(root_ / "nope", {kBatch});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kIo);
  EXPECT_NE(missing.error().message().find("cannot create the results file"), std::string::npos);
  // More pieces than one writev takes (IOV_MAX): every byte reaches the file.
  std::vector<std::string> rows(3000, "r,1\n");
  std::vector<std::string_view> pieces(rows.begin(), rows.end());
  auto many = agent::WriteResultsFile(staging_, pieces);
  ASSERT_TRUE(many) << many.error().message();
  EXPECT_EQ(fs::file_size(many->path), 3000u * 4);
  std::string all;
  for (const auto& r : rows) all += r;
  EXPECT_EQ(*ReadFile(many->path), all);
}

TEST_F(ResultsFileTest, RefusesHostileNames) {
  Write(root_ / "secret", kBatch);
  for (const std::string& name : std::vector<std::string>{std::string("../secret"), std::string("/etc/passwd"), std::string("incoming-00"),
                           std::string(".."), "agent-" + std::string(32, 'a') + "/../../secret",
                           std::string(5000, 'a')}) {
    ExpectRefused(name, kBatch.size(), ErrorCode::kInvalidArgument, "file", "lowercase hex digits");
  }
  EXPECT_TRUE(fs::exists(root_ / "secret"));
}

TEST_F(ResultsFileTest, RefusesLinksFifosFoldersAndHardLinks) {
  Write(root_ / "secret", kBatch);
  std::string link = NewResultsFileName();
  fs::create_symlink(root_ / "secret", staging_ / link);
  ExpectRefused(link, kBatch.size(), ErrorCode::kInvalidArgument, "file", "is a symbolic link");
  EXPECT_TRUE(fs::is_symlink(staging_ / link));  // left as it was
  EXPECT_EQ(*ReadFile(root_ / "secret"), kBatch);

  std::string fifo = NewResultsFileName();
  ASSERT_EQ(mkfifo((staging_ / fifo).c_str(), 0600), 0);
  ExpectRefused(fifo, 0, ErrorCode::kInvalidArgument, "file", "is a fifo");  // and it did not block

  std::string folder = NewResultsFileName();
  fs::create_directories(staging_ / folder);
  ExpectRefused(folder, 0, ErrorCode::kInvalidArgument, "file", "is a folder");

  // A hard link to a file elsewhere would take that file into results/.
  std::string hard = NewResultsFileName();
  fs::create_hard_link(root_ / "secret", staging_ / hard);
  ExpectRefused(hard, kBatch.size(), ErrorCode::kInvalidArgument, "file", "has 2 links");

  // The staging folder itself a link: refused, nothing read through it.
  fs::path real = root_ / "elsewhere";
  fs::create_directories(real);
  std::string there = NewResultsFileName();
  Write(real / there, kBatch);
  fs::remove_all(staging_);
  fs::create_directory_symlink(real, staging_);
  auto claimed = jobs::ClaimResultsFile(staging_, there, kBatch.size());
  ASSERT_FALSE(claimed);
  EXPECT_EQ(claimed.error().code(), ErrorCode::kIo);
  EXPECT_TRUE(fs::exists(real / there));
}

TEST_F(ResultsFileTest, RefusesADeviceAndAMissingFile) {
  ExpectRefused(NewResultsFileName(), 0, ErrorCode::kNotFound, "file", "is not in the job's staging folder");
  // A device node needs privileges to make; where the tests run as root, it is refused unopened.
  std::string dev = NewResultsFileName();
  if (mknod((staging_ / dev).c_str(), S_IFCHR | 0600, makedev(1, 3)) == 0) {
    ExpectRefused(dev, 0, ErrorCode::kInvalidArgument, "file", "is a device");
  }
}

TEST_F(ResultsFileTest, TheSizeMustMatchExactly) {
  auto written = agent::WriteResultsFile(staging_, {kBatch});
  ASSERT_TRUE(written);
  ExpectRefused(written->name, written->bytes - 1, ErrorCode::kInvalidArgument, "bytes",
                "has " + std::to_string(kBatch.size()) + " bytes, not the " + std::to_string(kBatch.size() - 1));
  ExpectRefused(written->name, written->bytes + 1, ErrorCode::kInvalidArgument, "bytes", "posted");
  EXPECT_TRUE(fs::exists(written->path));  // a refused file stays for its agent to send otherwise
  EXPECT_TRUE(jobs::ClaimResultsFile(staging_, written->name, written->bytes));
}

}  // namespace
}  // namespace lote
