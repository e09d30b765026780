// Log uploads of remote agents (jobs/node_logs.h) and the choice of access
// (jobs/agent_access.h).
#include "jobs/node_logs.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/util.h"
#include "jobs/agent_access.h"

namespace lote::jobs {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class NodeLogsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("lote-node-logs-" + RandomHex(6));
    logs_ = base_ / "job" / "logs";
    fs::create_directories(logs_);
    fs::create_directories(base_ / "outside");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  fs::path base_, logs_;
};

TEST_F(NodeLogsTest, OnlyTheAgentsFoldersAreWritable) {
  for (const char* ok : {"user/stdout/node0/process000.stdout.txt",
                         "user/error/node1/process002.txt", "sys/node/node0/agent.txt"}) {
    EXPECT_TRUE(CheckNodeLogPath(ok)) << ok;
  }
  for (const char* bad :
       {"lote_job.txt", "job_result.txt", "sys/job_report/processed_mini-batches.csv",
        "user/stdout/../../x", "/etc/passwd", "user/stdout/", "user/stdout//a", "./user/stdout/a",
        "user/stdout/node0/./a"}) {
    auto st = CheckNodeLogPath(bad);
    ASSERT_FALSE(st) << bad;
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST_F(NodeLogsTest, WritesAtOffsetsAreAppendsAndRepeatsChangeNothing) {
  const std::string rel = "user/stdout/node0/process000.stdout.txt";
  EXPECT_EQ(*NodeLogSize(logs_, rel), 0u);
  EXPECT_EQ(*WriteNodeLog(logs_, rel, 0, "hello "), 6u);
  EXPECT_EQ(*WriteNodeLog(logs_, rel, 0, "hello "), 6u);     // a retried upload
  EXPECT_EQ(*WriteNodeLog(logs_, rel, 3, "lo world"), 11u);  // overlaps: only the new bytes
  EXPECT_EQ(*WriteNodeLog(logs_, rel, 11, ""), 11u);
  EXPECT_EQ(Slurp(logs_ / rel), "hello world");
  EXPECT_EQ(*NodeLogSize(logs_, rel), 11u);

  auto gap = WriteNodeLog(logs_, rel, 20, "x");
  ASSERT_FALSE(gap);
  EXPECT_EQ(gap.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(gap.error().message().find("holds 11 bytes"), std::string::npos)
      << gap.error().message();

  auto big = WriteNodeLog(logs_, rel, 11, std::string(kMaxNodeLogUploadBytes + 1, 'x'));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code(), ErrorCode::kPayloadTooLarge);
}

TEST_F(NodeLogsTest, ALinkThatLeadsOutIsNotWrittenThrough) {
  fs::create_directories(logs_ / "user" / "stdout");
  fs::create_directory_symlink(base_ / "outside", logs_ / "user" / "stdout" / "node0");
  auto w = WriteNodeLog(logs_, "user/stdout/node0/process000.stdout.txt", 0, "x");
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code(), ErrorCode::kInvalidArgument) << w.error().message();
  EXPECT_TRUE(fs::is_empty(base_ / "outside"));
}

TEST(AgentAccessTest, LocalIsDirectElsewhereRemoteUnlessMountedOrOverridden) {
  using enum AccessMode;
  EXPECT_EQ(ChooseAgentAccess("local", false, std::nullopt), (AgentAccess{kDirect, kDirect}));
  EXPECT_EQ(ChooseAgentAccess("local", true, std::nullopt), (AgentAccess{kDirect, kDirect}));
  EXPECT_EQ(ChooseAgentAccess("slurm", false, std::nullopt), (AgentAccess{kRemote, kRemote}));
  EXPECT_EQ(ChooseAgentAccess("slurm", true, std::nullopt), (AgentAccess{kRemote, kDirect}));
  EXPECT_EQ(ChooseAgentAccess("local", false, kRemote), (AgentAccess{kRemote, kRemote}));
  EXPECT_EQ(ChooseAgentAccess("slurm", true, kDirect), (AgentAccess{kDirect, kDirect}));
  EXPECT_EQ(*ParseAccessMode("remote"), kRemote);
  EXPECT_EQ(AccessModeName(kDirect), "direct");
  EXPECT_FALSE(ParseAccessMode("auto"));
}

}  // namespace
}  // namespace lote::jobs
