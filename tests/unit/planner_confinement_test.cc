// Planning lists a datastore input beneath its datastore: links that lead out
// are never planned (the datastore may have changed since the invoke checked it).
#include <gtest/gtest.h>

#include <fstream>

#include "common/util.h"
#include "jobs/planner.h"
#include "store/sqlite_store.h"

namespace lote::jobs {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class PlannerConfinementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lote-plan-conf-" + RandomHex(6));
    fs::create_directories(dir_ / "ds" / "in");
    fs::create_directories(dir_ / "outside");
    std::ofstream(dir_ / "outside" / "secret.txt") << "SECRET\n";
    std::ofstream(dir_ / "ds" / "in" / "a.csv") << "x\n1\n";
    std::ofstream(dir_ / "ds" / "b.csv") << "x\n2\n";
    store_ = std::move(*store::OpenSqliteStore({.path = ":memory:"}));
  }
  void TearDown() override { fs::remove_all(dir_); }
  json Job(const std::string& rel) {
    json job = {{"name", "j"}, {"endpoint", "e"}, {"status", "Preparing"},
                {"input", {{"kind", "path"},
                           {"path", (dir_ / "ds" / rel).string()},
                           {"root", (dir_ / "ds").string()},
                           {"rel", rel},
                           {"datastore", "ds"}}},
                {"settings", {{"mini_batch_size", 10}}}};
    EXPECT_TRUE(store_->CreateJob(job));
    return job;
  }
  std::vector<std::string> PlannedPaths() {
    std::vector<std::string> out;
    auto tasks = store_->ListTasks("j", 0, 100);
    EXPECT_TRUE(tasks);
    for (const auto& t : *tasks) {
      for (const auto& item : t.items) out.push_back(item["path"]);
    }
    return out;
  }
  fs::path dir_;
  std::unique_ptr<store::SqliteStore> store_;
};

TEST_F(PlannerConfinementTest, ALinkOutInTheFolderFailsPlanningNamingIt) {
  fs::create_symlink(dir_ / "outside" / "secret.txt", dir_ / "ds" / "in" / "passwd");
  auto plan = PlanJob(Job("in"), dir_ / "dl", *store_);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(plan.error().message().find("'in/passwd' is a symbolic link to"), std::string::npos)
      << plan.error().message();
  EXPECT_NE(plan.error().message().find("outside datastore 'ds'"), std::string::npos) << plan.error().message();
  EXPECT_TRUE(PlannedPaths().empty());
}

TEST_F(PlannerConfinementTest, AnInputFolderSwappedForALinkOutFailsPlanning) {
  fs::rename(dir_ / "ds" / "in", dir_ / "ds" / "in.old");
  fs::create_directory_symlink(dir_ / "outside", dir_ / "ds" / "in");
  auto plan = PlanJob(Job("in"), dir_ / "dl", *store_);
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message().find("'in' is a symbolic link to"), std::string::npos) << plan.error().message();
  EXPECT_TRUE(PlannedPaths().empty());
}

TEST_F(PlannerConfinementTest, LinksInsideArePlannedByTheirRealPathAndDanglingOnesSkipped) {
  fs::create_symlink("../b.csv", dir_ / "ds" / "in" / "c.csv");
  fs::create_symlink("nowhere.csv", dir_ / "ds" / "in" / "d.csv");
  auto plan = PlanJob(Job("in"), dir_ / "dl", *store_);
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_EQ(plan->files, 2);
  const fs::path real = fs::canonical(dir_ / "ds");
  EXPECT_EQ(PlannedPaths(), (std::vector<std::string>{(real / "in/a.csv").string(), (real / "b.csv").string()}));
}

TEST_F(PlannerConfinementTest, ASingleFileInputIsCheckedToo) {
  fs::create_symlink(dir_ / "outside" / "secret.txt", dir_ / "ds" / "one.csv");
  auto plan = PlanJob(Job("one.csv"), dir_ / "dl", *store_);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(PlannedPaths().empty());
}

}  // namespace
}  // namespace lote::jobs
