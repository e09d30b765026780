// Row-level failures on their way to the dashboard: the item errors of a
// result batch (jobs/result_batch.h) and how the store keeps them with the
// attempt that committed the mini-batch (store/job_store.h Task::item_errors).
#include <gtest/gtest.h>

#include <fstream>

#include "common/util.h"
#include "jobs/result_batch.h"
#include "runtime/frame.h"
#include "store/sqlite_store.h"

namespace lote {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ResultItemErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lote-item-errors-" + RandomHex(6));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  Result<jobs::ResultBatch> Read(const json& item_errors) {
    json result = {{"task", 1}, {"lease", "l"}, {"succeeded", 1}, {"failed", 2}, {"bytes", 4}};
    if (!item_errors.is_null()) result["item_errors"] = item_errors;
    std::ofstream(dir_ / "b", std::ios::binary)
        << json{{"worker", "node0/process000"}, {"results", {result}}}.dump() << "\n" << "a,0\n";
    return jobs::ReadResultBatch(dir_ / "b");
  }
  void ExpectRefused(const json& item_errors, const std::string& message) {
    auto batch = Read(item_errors);
    ASSERT_FALSE(batch) << item_errors.dump().substr(0, 200);
    EXPECT_EQ(batch.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(batch.error().message(), message);
  }
  fs::path dir_;
};

TEST_F(ResultItemErrorsTest, ReadsEachErrorWithItsRowAndColumn) {
  auto batch = Read(json::array({{{"item", "a.csv"}, {"error", "a.csv: row 17 (line 19), column 'fare': 'abc' "
                                                               "is not a number"}, {"row", "17"},
                                  {"column", "fare"}},
                                 {{"item", "b.jsonl"}, {"error", "not JSON"}, {"row", nullptr}}}));
  ASSERT_TRUE(batch) << batch.error().message();
  const auto& errs = batch->results[0].item_errors;
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0].item, "a.csv");
  EXPECT_EQ(errs[0].row, "17");
  EXPECT_EQ(errs[0].column, "fare");
  EXPECT_EQ(errs[1].item, "b.jsonl");
  EXPECT_FALSE(errs[1].row);
  EXPECT_FALSE(errs[1].column);
}

TEST_F(ResultItemErrorsTest, AnAgentWithoutItemErrorsStillCommits) {
  auto batch = Read(json());
  ASSERT_TRUE(batch) << batch.error().message();
  EXPECT_TRUE(batch->results[0].item_errors.empty());
}

TEST_F(ResultItemErrorsTest, RefusesHostileItemErrorsNamingTheField) {
  ExpectRefused("all of them", "results[0].item_errors must be an array");
  ExpectRefused(json::array({7}), "results[0].item_errors[0] must be an object");
  ExpectRefused(json::array({{{"error", "x"}}}), "results[0].item_errors[0].item is missing");
  ExpectRefused(json::array({{{"item", "a"}, {"error", "x"}}, {{"item", "a"}}}),
                "results[0].item_errors[1].error is missing");
  ExpectRefused(json::array({{{"item", "a"}, {"error", "x"}, {"row", 17}}}),
                "results[0].item_errors[0].row must be a string");
  ExpectRefused(json::array({{{"item", "a"}, {"error", std::string(1 << 20, 'e')}}}),
                "results[0].item_errors[0].error is 1048576 bytes, more than " +
                    std::to_string(jobs::kMaxItemErrorTextBytes));
  ExpectRefused(json::array({{{"item", "a"}, {"error", "x"}, {"column", std::string(5000, 'c')}}}),
                "results[0].item_errors[0].column is 5000 bytes, more than " +
                    std::to_string(jobs::kMaxItemErrorColumnBytes));
  ExpectRefused(json::array({{{"item", "a"}, {"error", "x"}, {"row", std::string(129, '9')}}}),
                "results[0].item_errors[0].row is 129 bytes, more than 128");
  json many = json::array();
  for (int i = 0; i < 101; ++i) many.push_back({{"item", "a"}, {"error", "x"}});
  ExpectRefused(many, "results[0].item_errors lists 101 errors, more than 100");
}

// Whatever a worker sends, the agent's bounds (runtime::BoundMessageTexts)
// leave item errors the server accepts: a refused batch would lose the rows
// of every result in it.
TEST_F(ResultItemErrorsTest, WhatTheAgentBoundsTheServerAccepts) {
  json msg = {{"item_errors", json::array({{{"item", std::string(1 << 20, 'i')},
                                            {"error", std::string(1 << 20, 'e')},
                                            {"row", std::string(1 << 20, '7')},
                                            {"column", std::string(1 << 20, 'c')}}})}};
  runtime::BoundMessageTexts(msg);
  auto batch = Read(msg["item_errors"]);
  ASSERT_TRUE(batch) << batch.error().message();
  EXPECT_LE(batch->results[0].item_errors[0].row->size(), jobs::kMaxItemErrorRowBytes);
}

class StoredItemErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*store::OpenSqliteStore({.path = ":memory:"}));
    ASSERT_TRUE(store_->CreateJob({{"name", "j"}, {"endpoint", "ep"}, {"status", "Running"}}));
    std::vector<json> items;
    for (int i = 0; i < 3; ++i) items.push_back(json::array({{{"path", "f" + std::to_string(i) + ".csv"}}}));
    ASSERT_TRUE(store_->AddTasks("j", items));
  }
  static store::TaskReport Ok(const std::string& lease, const std::string& row) {
    store::TaskReport r;
    r.lease = lease;
    r.ok = true;
    r.succeeded = 1;
    r.failed = 1;
    r.part_length = 0;
    r.item_errors = json::array({{{"item", "f0.csv"}, {"error", "bad row " + row}, {"row", row}}});
    return r;
  }
  std::unique_ptr<store::SqliteStore> store_;
};

// An attempt whose lease expired may still post its result (with the same
// bad rows) after the retry committed: only the committed attempt's errors
// are kept, once.
TEST_F(StoredItemErrorsTest, ARetriedMiniBatchListsOnlyTheCommittedAttemptsErrors) {
  auto first = *store_->LeaseTasks("j", 1, "a", 1000, 0);
  ASSERT_TRUE(store_->ExpireLeases("j", 5000, 3, "lease expired"));
  auto second = *store_->LeaseTasks("j", 1, "b", 1000, 5000);
  ASSERT_EQ(second[0].id, first[0].id);
  auto outcomes = store_->FinishTasks("j", {{second[0].id, Ok(second[0].lease, "17")}}, 3);
  ASSERT_TRUE(outcomes) << outcomes.error().message();
  auto late = store_->FinishTasks("j", {{first[0].id, Ok(first[0].lease, "17")}}, 3);
  ASSERT_TRUE(late);
  EXPECT_EQ((*late)[0], store::CommitOutcome::kStaleLease);
  auto listed = *store_->ListFailedTasks("j", 0, 10);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].attempts, 2);
  ASSERT_EQ(listed[0].item_errors.size(), 1u);
  EXPECT_EQ(listed[0].item_errors[0]["row"], "17");
}

// Rows lost after the commit put the mini-batch back: its errors go with its
// rows, and the rerun's replace them instead of adding to them.
TEST_F(StoredItemErrorsTest, ARequeuedMiniBatchReplacesItsErrors) {
  auto first = *store_->LeaseTasks("j", 1, "a", 1000, 0);
  ASSERT_TRUE(store_->FinishTasks("j", {{first[0].id, Ok(first[0].lease, "3")}}, 3));
  ASSERT_EQ(*store_->RequeueDone("j", {first[0].id}, "rows lost"), 1);
  EXPECT_TRUE(store_->GetTask("j", first[0].id)->item_errors.empty());
  EXPECT_TRUE(store_->ListFailedTasks("j", 0, 10)->empty());
  auto second = *store_->LeaseTasks("j", 1, "b", 1000, 0);
  ASSERT_TRUE(store_->FinishTasks("j", {{second[0].id, Ok(second[0].lease, "4")}}, 3));
  auto t = *store_->GetTask("j", first[0].id);
  ASSERT_EQ(t.item_errors.size(), 1u);
  EXPECT_EQ(t.item_errors[0]["row"], "4");
}

TEST_F(StoredItemErrorsTest, ListsFailedAndErroredMiniBatchesOnly) {
  auto leased = *store_->LeaseTasks("j", 3, "a", 1000, 0);
  store::TaskReport clean = Ok(leased[1].lease, "1");
  clean.item_errors = json::array();
  store::TaskReport failed;
  failed.lease = leased[2].lease;
  failed.error = "boom";
  failed.outcome = "RUN_EXCEPTION";
  ASSERT_TRUE(store_->FinishTasks("j", {{leased[0].id, Ok(leased[0].lease, "9")}, {leased[1].id, clean}}, 3));
  ASSERT_TRUE(store_->FinishTask("j", leased[2].id, failed, /*max_retries=*/0));
  auto listed = *store_->ListFailedTasks("j", 0, 10);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id, leased[0].id);
  EXPECT_EQ(listed[1].id, leased[2].id);
  EXPECT_EQ(listed[1].status, store::TaskStatus::kFailed);
  EXPECT_TRUE(listed[1].item_errors.empty());
  EXPECT_EQ(store_->ListFailedTasks("j", leased[0].id, 10)->size(), 1u);
}

}  // namespace
}  // namespace lote
