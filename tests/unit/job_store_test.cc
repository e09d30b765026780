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
    EXPECT_EQ(after->status, attempt <= 2 ? TaskStatus::kPending : TaskStatus::kFailed);
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
  EXPECT_EQ(t.status, TaskStatus::kPending);
  EXPECT_EQ(t.attempts, 0);
  EXPECT_EQ(store_->Counters("j1")->tasks_running, 0);
}

TEST_F(JobStoreTest, StopUnfinishedCountsCanceledAndNotRunApartFromFailed) {
  auto t = *store_->LeaseTasks("j1", 2, "w", 1000, 0);
  ASSERT_TRUE(store_->FinishTask("j1", 1, Ok(t[0].lease), 3));  // 1 done, 2 leased, 3 pending
  auto stopped = store_->StopUnfinished("j1", "canceled");
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->canceled, 1);
  EXPECT_EQ(stopped->not_run, 1);
  auto c = *store_->Counters("j1");
  EXPECT_EQ(c.tasks_done, 1);
  EXPECT_EQ(c.tasks_failed, 0);
  EXPECT_EQ(c.items_failed, 0);
  EXPECT_EQ(c.tasks_canceled, 1);
  EXPECT_EQ(c.tasks_not_run, 1);
  EXPECT_EQ(c.tasks_running, 0);
  EXPECT_EQ(c.tasks_done + c.tasks_failed + c.tasks_canceled + c.tasks_not_run, c.tasks_total);
  EXPECT_EQ(store_->GetTask("j1", 2)->status, TaskStatus::kCanceled);
  EXPECT_EQ(store_->GetTask("j1", 2)->outcome, "CANCELED");
  EXPECT_EQ(store_->GetTask("j1", 3)->status, TaskStatus::kNotRun);
  EXPECT_EQ(store_->GetTask("j1", 3)->outcome, "NOT_RUN");
  // The canceled attempt's late results are refused: its lease ended.
  auto late = store_->FinishTask("j1", 2, Ok(t[1].lease), 3);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store_->GetJob("j1")->counters.tasks_canceled, 1);
}

TEST_F(JobStoreTest, JobsListNewestFirstAndFilterByEndpoint) {
  ASSERT_TRUE(store_->CreateJob({{"name", "j2"}, {"endpoint", "other"}, {"status", "NotStarted"}}));
  auto all = *store_->ListJobs("");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name(), "j2");
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
  c.header = a.header;
  auto accepted = store_->FinishTasks("j1", {{1, a}, {2, stale}, {3, c}, {99, Ok("x")}}, 3);
  ASSERT_TRUE(accepted) << accepted.error().message();
  EXPECT_EQ(*accepted, (std::vector<CommitOutcome>{CommitOutcome::kAccepted, CommitOutcome::kStaleLease,
                                                   CommitOutcome::kAccepted, CommitOutcome::kStaleLease}));
  auto t1 = *store_->GetTask("j1", 1);
  EXPECT_EQ(t1.status, TaskStatus::kDone);
  EXPECT_EQ(t1.part, "batch-1.rows");
  EXPECT_EQ(t1.part_offset, 10);
  EXPECT_EQ(t1.part_length, 20);
  EXPECT_EQ(t1.header, "file,row,prediction");
  EXPECT_EQ(store_->GetTask("j1", 2)->status, TaskStatus::kLeased);
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
  EXPECT_EQ(t.status, TaskStatus::kPending);
  EXPECT_EQ(t.attempts, 0);
  EXPECT_EQ(store_->Counters("j1")->tasks_running, 1);
  auto again = *store_->LeaseTasks("j1", 1, "node0/process001", 1000, 0);
  EXPECT_EQ(again[0].id, leased[0].id);
  EXPECT_EQ(again[0].attempts, 1);
}

TEST_F(JobStoreTest, RowsUnderAnotherHeaderFailTheirMiniBatchForGood) {
  auto leased = *store_->LeaseTasks("j1", 3, "node0/process000", 1000, 0);
  TaskReport a = Ok(leased[0].lease, 2);
  a.header = "file,row,prediction";
  a.part_length = 10;
  TaskReport b = Ok(leased[1].lease, 2);
  b.header = "file,row,score";  // other columns
  b.part_length = 10;
  TaskReport c = Ok(leased[2].lease, 0);
  c.header = "";  // no rows at all: nothing to agree on
  c.part_length = 0;
  auto outcomes = store_->FinishTasks("j1", {{1, a}, {2, b}, {3, c}}, 3);
  ASSERT_TRUE(outcomes) << outcomes.error().message();
  EXPECT_EQ(*outcomes, (std::vector<CommitOutcome>{CommitOutcome::kAccepted, CommitOutcome::kHeaderMismatch,
                                                   CommitOutcome::kAccepted}));
  EXPECT_EQ(*store_->GetJob("j1")->state.output_header, "file,row,prediction");
  auto t2 = *store_->GetTask("j1", 2);
  EXPECT_EQ(t2.status, TaskStatus::kFailed);  // not retried: the same code gives the same columns
  EXPECT_EQ(t2.outcome, "RUN_HEADER_MISMATCH");
  EXPECT_NE(t2.error.find("'file,row,score' differ from the output's 'file,row,prediction'"), std::string::npos)
      << t2.error;
  auto counters = *store_->Counters("j1");
  EXPECT_EQ(counters.tasks_done, 2);
  EXPECT_EQ(counters.tasks_failed, 1);
  EXPECT_EQ(counters.tasks_running, 0);
}

TEST_F(JobStoreTest, StatusChangesAreCompareAndSet) {
  EXPECT_EQ(store_->GetJob("j1")->state.status, JobStatus::kNotStarted);
  JobUpdate started;
  started.started_ms = 42;
  EXPECT_TRUE(*store_->Transition("j1", {JobStatus::kNotStarted}, JobStatus::kPreparing));
  // A writer that believes the job is still NotStarted changes nothing.
  EXPECT_FALSE(*store_->Transition("j1", {JobStatus::kNotStarted}, JobStatus::kFailed));
  EXPECT_TRUE(*store_->Transition("j1", {JobStatus::kNotStarted, JobStatus::kPreparing, JobStatus::kRunning},
                                  JobStatus::kCancelRequested));
  EXPECT_FALSE(*store_->Transition("j1", {JobStatus::kPreparing}, JobStatus::kRunning, started));
  auto rec = *store_->GetJob("j1");
  EXPECT_EQ(rec.state.status, JobStatus::kCancelRequested);
  EXPECT_EQ(rec.state.started_ms, 0);
  JobUpdate ended;
  ended.error = "canceled by request";
  ended.ended_ms = 99;
  EXPECT_TRUE(*store_->Transition("j1", {JobStatus::kCancelRequested}, JobStatus::kCanceled, ended));
  rec = *store_->GetJob("j1");
  EXPECT_EQ(rec.state.status, JobStatus::kCanceled);
  EXPECT_EQ(rec.state.error, "canceled by request");
  EXPECT_EQ(rec.state.ended_ms, 99);
  EXPECT_EQ(store_->Transition("nope", {JobStatus::kRunning}, JobStatus::kFailed).error().code(),
            ErrorCode::kNotFound);
}

TEST_F(JobStoreTest, AStorageErrorIsAnErrorNotTheEndOfTheRows) {
  // A table the queries need is gone: every call reports it, none pretends
  // there is nothing.
  ASSERT_TRUE(store_->Exec("DROP TABLE tasks"));
  auto listed = store_->ListTasks("j1", 0, 10);
  ASSERT_FALSE(listed);
  EXPECT_NE(listed.error().message().find("no such table: tasks"), std::string::npos) << listed.error().message();
  EXPECT_FALSE(store_->LeaseTasks("j1", 1, "w", 1000, 0));
  EXPECT_FALSE(store_->ExpireLeases("j1", 0, 3, "x"));
}

TEST_F(JobStoreTest, ATransactionRollsBackOnAnExceptionAndTheStoreStaysUsable) {
  auto st = store_->Transaction([&]() -> Status {
    LOTE_TRY(store_->Insert(Kind::kCompute, "c1", {{"name", "c1"}}));
    nlohmann::json j = 1;
    (void)j.at("boom");  // throws type_error
    return {};
  });
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("unexpected exception"), std::string::npos) << st.error().message();
  EXPECT_EQ(store_->Get(Kind::kCompute, "c1").error().code(), ErrorCode::kNotFound);  // rolled back
  // Not stuck inside a transaction: the next one works.
  ASSERT_TRUE(store_->Transaction([&]() -> Status { return store_->Insert(Kind::kCompute, "c2", {{"name", "c2"}}); }));
  EXPECT_TRUE(store_->Get(Kind::kCompute, "c2"));
}

}  // namespace
}  // namespace lote::store
