#include <gtest/gtest.h>

#include "store/sqlite_store.h"

namespace lote::store {
namespace {

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*OpenSqliteStore({.path = ":memory:"}));
    ASSERT_TRUE(store_->CreateJob({{"name", "j1"}, {"endpoint", "ep"}, {"status", "Running"}}));
    std::vector<nlohmann::json> items;
    for (int i = 0; i < 3; ++i) items.push_back(nlohmann::json::array({{{"path", "f" + std::to_string(i)}}}));
    ASSERT_TRUE(store_->AddTasks("j1", items));
  }
  TaskReport Ok(const std::string& lease, int64_t n = 1) {
    TaskReport r;
    r.lease = lease;
    r.ok = true;
    r.succeeded = n;
    return r;
  }
  TaskReport Bad(const std::string& lease) {
    TaskReport r;
    r.lease = lease;
    r.error = "boom";
    r.outcome = "RUN_EXCEPTION";
    return r;
  }
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(JobStoreTest, LeasesLowestIdsFirstAndCountsProgress) {
  auto leased = store_->LeaseTasks("j1", 2, "node0/process000", 1000, 0);
  ASSERT_TRUE(leased);
  ASSERT_EQ(leased->size(), 2u);
  EXPECT_EQ((*leased)[0].id, 1);
  EXPECT_EQ((*leased)[1].id, 2);
  EXPECT_EQ((*leased)[0].attempts, 1);
  EXPECT_EQ(store_->Counters("j1")->tasks_running, 2);
  ASSERT_TRUE(store_->FinishTask("j1", 1, Ok((*leased)[0].lease, 5), 3));
  auto c = *store_->Counters("j1");
  EXPECT_EQ(c.tasks_total, 3);
  EXPECT_EQ(c.tasks_done, 1);
  EXPECT_EQ(c.tasks_running, 1);
  EXPECT_EQ(c.items_succeeded, 5);
}

TEST_F(JobStoreTest, StaleLeaseIsRefusedSoNoResultCountsTwice) {
  auto first = *store_->LeaseTasks("j1", 1, "a", 1000, 0);
  ASSERT_TRUE(store_->ExpireLeases("j1", 5000, 3, "lease expired"));  // back to pending
  auto second = *store_->LeaseTasks("j1", 1, "b", 1000, 5000);
  ASSERT_EQ(second[0].id, first[0].id);
  EXPECT_EQ(second[0].attempts, 2);
  auto late = store_->FinishTask("j1", first[0].id, Ok(first[0].lease), 3);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code(), ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(store_->FinishTask("j1", second[0].id, Ok(second[0].lease), 3));
  EXPECT_EQ(store_->Counters("j1")->items_succeeded, 1);
  EXPECT_EQ(store_->Counters("j1")->tasks_retried, 1);
}

TEST_F(JobStoreTest, FailedAttemptsRetryUntilMaxRetriesThenFail) {
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto t = *store_->LeaseTasks("j1", 1, "w", 1000, 0);
    ASSERT_EQ(t[0].id, 1);
    auto after = store_->FinishTask("j1", 1, Bad(t[0].lease), /*max_retries=*/2);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->status, attempt <= 2 ? "pending" : "failed");
  }
  auto c = *store_->Counters("j1");
  EXPECT_EQ(c.tasks_failed, 1);
  EXPECT_EQ(c.items_failed, 1);
  EXPECT_EQ(c.tasks_retried, 2);
  EXPECT_EQ(store_->GetTask("j1", 1)->error, "boom");
}

TEST_F(JobStoreTest, ReleaseLeasesDoesNotCountAnAttempt) {
  ASSERT_TRUE(store_->LeaseTasks("j1", 3, "w", 1000, 0));
  EXPECT_EQ(*store_->ReleaseLeases("j1"), 3);
  auto t = *store_->GetTask("j1", 2);
  EXPECT_EQ(t.status, "pending");
  EXPECT_EQ(t.attempts, 0);
  EXPECT_EQ(store_->Counters("j1")->tasks_running, 0);
}

TEST_F(JobStoreTest, CancelPendingFailsTheRest) {
  auto t = *store_->LeaseTasks("j1", 1, "w", 1000, 0);
  ASSERT_TRUE(store_->FinishTask("j1", 1, Ok(t[0].lease), 3));
  ASSERT_TRUE(store_->CancelPending("j1", "canceled"));
  auto c = *store_->Counters("j1");
  EXPECT_EQ(c.tasks_done + c.tasks_failed, c.tasks_total);
  EXPECT_EQ(c.items_failed, 2);
  EXPECT_EQ(store_->GetTask("j1", 3)->outcome, "NOT_RUN");
}

TEST_F(JobStoreTest, JobsListNewestFirstAndFilterByEndpoint) {
  ASSERT_TRUE(store_->CreateJob({{"name", "j2"}, {"endpoint", "other"}, {"status", "NotStarted"}}));
  auto all = *store_->ListJobs("");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["name"], "j2");
  EXPECT_EQ(store_->ListJobs("ep")->size(), 1u);
  EXPECT_EQ(store_->CreateJob({{"name", "j2"}, {"endpoint", "x"}, {"status", "x"}}).error().code(),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(store_->GetJob("nope").error().message(), "job 'nope' not found");
}

TEST_F(JobStoreTest, FinishTasksCommitsCurrentLeasesAndDropsStaleOnes) {
  auto leased = *store_->LeaseTasks("j1", 3, "node0/process000", 1000, 0);
  ASSERT_EQ(leased.size(), 3u);
  TaskReport a = Ok(leased[0].lease, 2);
  a.part = "batch-1.rows";
  a.part_offset = 10;
  a.part_length = 20;
  a.header = "file,row,prediction";
  TaskReport stale = Ok("not-the-lease", 7);
  TaskReport c = Ok(leased[2].lease, 3);
  auto accepted = store_->FinishTasks("j1", {{1, a}, {2, stale}, {3, c}, {99, Ok("x")}}, 3);
  ASSERT_TRUE(accepted) << accepted.error().message();
  EXPECT_EQ(*accepted, (std::vector<bool>{true, false, true, false}));
  auto t1 = *store_->GetTask("j1", 1);
  EXPECT_EQ(t1.status, "done");
  EXPECT_EQ(t1.part, "batch-1.rows");
  EXPECT_EQ(t1.part_offset, 10);
  EXPECT_EQ(t1.part_length, 20);
  EXPECT_EQ(t1.header, "file,row,prediction");
  EXPECT_EQ(store_->GetTask("j1", 2)->status, "leased");
  auto counters = *store_->Counters("j1");
  EXPECT_EQ(counters.tasks_done, 2);
  EXPECT_EQ(counters.tasks_running, 1);
  EXPECT_EQ(counters.items_succeeded, 5);
}

TEST_F(JobStoreTest, ReleaseTasksReturnsCurrentLeasesWithoutCountingAnAttempt) {
  auto leased = *store_->LeaseTasks("j1", 2, "node0/process000", 1000, 0);
  auto n = store_->ReleaseTasks("j1", {{leased[0].id, leased[0].lease}, {leased[1].id, "stale"}});
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1);
  auto t = *store_->GetTask("j1", leased[0].id);
  EXPECT_EQ(t.status, "pending");
  EXPECT_EQ(t.attempts, 0);
  EXPECT_EQ(store_->Counters("j1")->tasks_running, 1);
  auto again = *store_->LeaseTasks("j1", 1, "node0/process001", 1000, 0);
  EXPECT_EQ(again[0].id, leased[0].id);
  EXPECT_EQ(again[0].attempts, 1);
}

}  // namespace
}  // namespace lote::store
