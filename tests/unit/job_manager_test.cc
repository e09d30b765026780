// The job manager against a fake clock, a fake launcher and a store that can
// be raced or made to fail at a chosen call. Agents are played by the test
// through the agent API (lease, results, fail), as real agents call it.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "common/util.h"
#include "jobs/job_manager.h"
#include "jobs/job_state.h"
#include "jobs/output_assembly.h"
#include "job_fakes.h"
#include "registry/registry.h"
#include "store/sqlite_store.h"

namespace lote::jobs {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using store::JobStatus;
using Clock = std::chrono::steady_clock;

class JobManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lote-jm-" + RandomHex(6));
    home_.root = dir_ / "home";
    fs::create_directories(home_.jobs());
    sqlite_ = std::move(*store::OpenSqliteStore({.path = home_.metadata_db()}));
    hooked_ = std::make_unique<testing::HookedJobStore>(*sqlite_);
    registry::RegistryOptions ro;
    ro.store = sqlite_.get();
    ro.home = home_;
    ro.base_url = "http://x";
    registry_ = std::move(*registry::Registry::Create(ro));
  }
  void TearDown() override {
    jm_.reset();
    fs::remove_all(dir_);
  }

  void StartManager() {
    JobManagerOptions o;
    o.store = hooked_.get();
    o.registry = registry_.get();
    o.launcher = &launcher_;
    o.home = home_;
    o.base_url = "http://127.0.0.1:1";
    o.agent_token = [](const std::string&) { return std::string("token"); };
    o.now_ms = clock_.Fn();
    o.tick_ms = 5;
    jm_ = std::move(*JobManager::Create(o));
    jm_->Start();
  }
  void RestartManager() {
    jm_.reset();
    StartManager();
  }

  // A job over the files given (name -> content), as BuildJob writes it.
  void AddJob(const std::string& name, const std::map<std::string, std::string>& files,
              json settings = json::object()) {
    fs::path in = dir_ / "in" / name;
    fs::create_directories(in);
    for (const auto& [f, text] : files) std::ofstream(in / f, std::ios::binary) << text;
    fs::path out = dir_ / "out" / name;
    json s = {{"mini_batch_size", 1},        {"instance_count", 1},         {"max_concurrency_per_instance", 1},
              {"max_retries", 1},            {"timeout_s", 30},             {"error_threshold", -1},
              {"logging_level", "info"},     {"output_action", "append_row"}, {"compute", "local"},
              {"environment_variables", json::object()}};
    s.update(settings);
    json spec = {{"name", name},
                 {"type", "batch"},
                 {"endpoint", "ep"},
                 {"deployment", "blue"},
                 {"input", {{"kind", "path"}, {"path", in.string()}, {"description", "in/" + name}}},
                 {"output", {{"datastore", "workspaceblobstore"}, {"path", "out/" + name},
                             {"file_name", "predictions.csv"}, {"uri", "azureml://datastores/x/paths/out"},
                             {"local_path", (out / "predictions.csv").string()}, {"local_dir", out.string()}}},
                 {"settings", s},
                 {"runtime", {{"kind", "native"}}}};
    ASSERT_TRUE(sqlite_->CreateJob(spec));
    ASSERT_TRUE((JobDir{home_.jobs() / name}.Create()));
  }

  JobStatus StatusOf(const std::string& name) { return sqlite_->GetJob(name)->state.status; }
  store::JobRecord Record(const std::string& name) { return *sqlite_->GetJob(name); }

  // Waits (really, up to 20 s) for the condition; the scheduler runs on its own thread.
  bool WaitFor(const std::function<bool()>& cond) {
    auto until = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < until) {
      if (cond()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return cond();
  }
  bool WaitStatus(const std::string& name, JobStatus s) {
    return WaitFor([&] { return StatusOf(name) == s; });
  }

  // Leases what the job hands out to one worker.
  json Lease(const std::string& name, int max = 64) {
    auto r = jm_->Lease(name, "node0/process000", max);
    EXPECT_TRUE(r) << r.error().message();
    return r ? (*r)["tasks"] : json::array();
  }

  // Posts results for leased tasks: one row "<task>,ok" each, under `header`.
  json Commit(const std::string& name, const json& tasks, const std::string& header = "task,result",
              int rows_each = 1) {
    json meta = {{"worker", "node0/process000"}, {"results", json::array()}};
    std::string rows;
    for (const json& t : tasks) {
      std::string these;
      for (int i = 0; i < rows_each; ++i) these += std::to_string(t["id"].get<int64_t>()) + ",ok\n";
      meta["results"].push_back({{"task", t["id"]}, {"lease", t["lease"]}, {"succeeded", rows_each}, {"failed", 0},
                                 {"started_ms", 0}, {"elapsed_ms", 1},
                                 {"header", rows_each ? json(header) : json(nullptr)}, {"bytes", these.size()}});
      rows += these;
    }
    auto staged = jm_->StagingPath(name);
    EXPECT_TRUE(staged);
    std::ofstream(*staged, std::ios::binary) << meta.dump() << "\n" << rows;
    auto r = jm_->CommitResults(name, *staged);
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : json();
  }

  std::string Events(const std::string& name) {
    auto t = ReadFile(home_.jobs() / name / "logs" / "lote_job.txt");
    return t ? *t : "";
  }
  std::string Result(const std::string& name) {
    auto t = ReadFile(home_.jobs() / name / "logs" / "job_result.txt");
    return t ? *t : "";
  }

  fs::path dir_;
  HomeLayout home_;
  testing::FakeClock clock_;
  testing::FakeLauncher launcher_;
  std::unique_ptr<store::SqliteStore> sqlite_;
  std::unique_ptr<testing::HookedJobStore> hooked_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<JobManager> jm_;
};

TEST_F(JobManagerTest, AJobRunsToCompletedWithItsRowsInInputOrder) {
  AddJob("j", {{"a.csv", "x\n"}, {"b.csv", "x\n"}, {"c.csv", "x\n"}});
  StartManager();
  ASSERT_TRUE(WaitStatus("j", JobStatus::kRunning));
  EXPECT_TRUE(WaitFor([&] { return launcher_.launched() == 1; }));
  json tasks = Lease("j");
  ASSERT_EQ(tasks.size(), 1u);  // its share: a third of three over one slot, at least one
  json rest = Lease("j");
  json last = Lease("j");
  Commit("j", last);
  Commit("j", tasks);
  Commit("j", rest);
  ASSERT_TRUE(WaitStatus("j", JobStatus::kCompleted)) << Events("j");
  EXPECT_EQ(*ReadFile(dir_ / "out" / "j" / "predictions.csv"), "task,result\n1,ok\n2,ok\n3,ok\n");
  EXPECT_EQ(Record("j").state.output_rows, 3);
  EXPECT_FALSE(fs::exists(dir_ / "out" / "j" / AssemblyTempName("predictions.csv", "j")));
  EXPECT_NE(Result("j").find("Status: Completed"), std::string::npos) << Result("j");
  EXPECT_TRUE(WaitFor([&] { return launcher_.running() == 0; })) << "agents stopped when the job ended";
}

TEST_F(JobManagerTest, ACancelDuringPreparingIsNeverLost) {
  AddJob("j", {{"a.csv", "x\n"}, {"b.csv", "x\n"}});
  // The cancel arrives while the input is being planned, before the
  // scheduler moves the job on to Running.
  hooked_->on_add_tasks = [&](const std::string& job) {
    auto r = jm_->Cancel(job);
    EXPECT_TRUE(r) << r.error().message();
  };
  StartManager();
  ASSERT_TRUE(WaitStatus("j", JobStatus::kCanceled)) << Events("j");
  EXPECT_EQ(launcher_.launched(), 0u) << "no agent starts for a canceled job";
  EXPECT_EQ(Events("j").find("status Running"), std::string::npos) << Events("j");
  auto c = *sqlite_->Counters("j");
  EXPECT_EQ(c.tasks_not_run, c.tasks_total);  // not run, and not failed
  EXPECT_EQ(c.tasks_failed, 0);
  EXPECT_EQ(c.items_failed, 0);
  EXPECT_NE(Result("j").find("Status: Canceled"), std::string::npos) << Result("j");
}

TEST_F(JobManagerTest, ACancelThatWinsTheRaceWithFinalizingEndsCanceled) {
  AddJob("j", {{"a.csv", "x\n"}});
  hooked_->on_transition = [&](const std::string& job, JobStatus to) -> Status {
    if (to == JobStatus::kFinalizing) {
      hooked_->on_transition = nullptr;
      EXPECT_TRUE(jm_->Cancel(job));
    }
    return {};
  };
  StartManager();
  ASSERT_TRUE(WaitStatus("j", JobStatus::kRunning));
  Commit("j", Lease("j"));
  ASSERT_TRUE(WaitStatus("j", JobStatus::kCanceled)) << Events("j");
  EXPECT_FALSE(fs::exists(dir_ / "out" / "j" / "predictions.csv"));
}

TEST_F(JobManagerTest, ACancelAfterFinalizingBeganIsRefusedAndTheJobCompletes) {
  AddJob("j", {{"a.csv", "x\n"}});
  std::atomic<bool> refused{false};
  hooked_->on_transition = [&](const std::string& job, JobStatus to) -> Status {
    if (to == JobStatus::kCompleted && !refused) {
      auto r = jm_->Cancel(job);  // the job is Finalizing now
      refused = !r && r.error().code() == ErrorCode::kFailedPrecondition;
    }
    return {};
  };
  StartManager();
  ASSERT_TRUE(WaitStatus("j", JobStatus::kRunning));
  Commit("j", Lease("j"));
  ASSERT_TRUE(WaitStatus("j", JobStatus::kCompleted)) << Events("j");
  EXPECT_TRUE(refused);
}

TEST_F(JobManagerTest, ACrashBetweenLinkingTheOutputAndRecordingCompletedKeepsTheJobCompleted) {
  AddJob("j", {{"a.csv", "x\n"}, {"b.csv", "x\n"}});
  std::atomic<int> refused{0};
  hooked_->on_transition = [&](const std::string&, JobStatus to) -> Status {
    if (to == JobStatus::kCompleted) {
      ++refused;
      return Internal("metadata store change job status: disk I/O error (injected)");
    }
    return {};
  };
  StartManager();
  ASSERT_TRUE(WaitStatus("j", JobStatus::kRunning));
  Commit("j", Lease("j"));
  Commit("j", Lease("j"));
  ASSERT_TRUE(WaitFor([&] { return refused > 0; }));
  // The output is linked; the status could not be recorded. The server dies.
  jm_.reset();
  ASSERT_EQ(StatusOf("j"), JobStatus::kFinalizing);
  ASSERT_TRUE(fs::exists(dir_ / "out" / "j" / "predictions.csv"));
  hooked_->on_transition = nullptr;
  StartManager();
  ASSERT_TRUE(WaitStatus("j", JobStatus::kCompleted)) << Events("j") << Record("j").state.error;
  EXPECT_EQ(Record("j").state.error, "");
  EXPECT_EQ(Record("j").state.output_rows, 2);
  EXPECT_EQ(*ReadFile(dir_ / "out" / "j" / "predictions.csv"), "task,result\n1,ok\n2,ok\n");
}

TEST_F(JobManagerTest, ALeaseThatExpiresIsRetriedAsAnotherAttempt) {
  AddJob("j", {{"a.csv", "x\n"}}, {{"timeout_s", 10}, {"max_retries", 2}});
  StartManager();
  ASSERT_TRUE(WaitStatus("j", JobStatus::kRunning));
  json first = Lease("j");
  ASSERT_EQ(first.size(), 1u);
  clock_.Advance(10'000 + 60'000 + 1);  // timeout + the lease's margin
  ASSERT_TRUE(WaitFor([&] { return sqlite_->GetTask("j", 1)->status == store::TaskStatus::kPending; }));
  json second = Lease("j");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0]["attempt"], 2);
  // The first holder's late answer is dropped; the second's is kept.
  json late = Commit("j", first);
  EXPECT_EQ(late["dropped"].size(), 1u);
  Commit("j", second);
  ASSERT_TRUE(WaitStatus("j", JobStatus::kCompleted));
  EXPECT_EQ(Record("j").state.output_rows, 1);
}

TEST_F(JobManagerTest, AnAgentThatCannotStartWorkersFailsTheJobWithTheReason) {
  AddJob("j", {{"a.csv", "x\n"}});
  StartManager();
  ASSERT_TRUE(WaitFor([&] { return launcher_.launched() == 1; }));
  ASSERT_TRUE(launcher_.End(0, {.kind = compute::AgentExit::Kind::kExited, .code = 3, .signal = 0, .detail = ""}));
  ASSERT_TRUE(WaitStatus("j", JobStatus::kFailed));
  EXPECT_EQ(Record("j").state.error, "no worker could be started on node 0");
  EXPECT_EQ(launcher_.launched(), 1u) << "not restarted: it would fail again";
}

TEST_F(JobManagerTest, AgentsThatKeepDyingFailTheJobAfterTheRestartLimit) {
  AddJob("j", {{"a.csv", "x\n"}});
  StartManager();
  ASSERT_TRUE(WaitFor([&] { return launcher_.launched() == 1; }));
  for (size_t i = 1; i <= 4; ++i) {
    ASSERT_TRUE(launcher_.End(0, {.kind = compute::AgentExit::Kind::kKilled, .code = 0, .signal = 9, .detail = ""}));
    // Restarts wait a little (on the fake clock), then the agent starts again.
    ASSERT_TRUE(WaitFor([&] {
      clock_.Advance(100);
      return launcher_.launched() == i + 1 || StatusOf("j") == JobStatus::kFailed;
    })) << i;
  }
  ASSERT_TRUE(WaitStatus("j", JobStatus::kFailed)) << Events("j");
  EXPECT_NE(Record("j").state.error.find("killed by signal 9 (SIGKILL) more than 3 times"), std::string::npos)
      << Record("j").state.error;
}

TEST_F(JobManagerTest, AnAgentItsClusterLostHandsBackItsWorkWithoutCountingAnAttempt) {
  AddJob("j", {{"a.csv", "x\n"}});
  StartManager();
  ASSERT_TRUE(WaitStatus("j", JobStatus::kRunning));
  json first = Lease("j");
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(launcher_.End(0, {.kind = compute::AgentExit::Kind::kLost, .code = 0, .signal = 0,
                                .detail = "the node of Slurm job 7 failed (NODE_FAIL)"}));
  // Pending again at once (not after the lease), with no attempt used up.
  ASSERT_TRUE(WaitFor([&] { return sqlite_->GetTask("j", 1)->status == store::TaskStatus::kPending; }));
  EXPECT_EQ(sqlite_->GetTask("j", 1)->attempts, 0);
  json second = Lease("j");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0]["attempt"], 1);
  EXPECT_EQ(Commit("j", first)["dropped"].size(), 1u) << "the lost agent's late answer does not count";
  Commit("j", second);
  ASSERT_TRUE(WaitStatus("j", JobStatus::kCompleted)) << Events("j");
  EXPECT_EQ(Record("j").state.output_rows, 1);
  EXPECT_NE(Events("j").find("NODE_FAIL"), std::string::npos) << Events("j");
}

TEST_F(JobManagerTest, AnAgentTheClusterRefusesFailsTheJobWithTheClustersMessage) {
  AddJob("j", {{"a.csv", "x\n"}});
  StartManager();
  for (size_t i = 1; i <= 4; ++i) {
    ASSERT_TRUE(WaitFor([&] {
      clock_.Advance(100);
      return launcher_.launched() == i || StatusOf("j") == JobStatus::kFailed;
    })) << i;
    launcher_.End(0, {.kind = compute::AgentExit::Kind::kNotStarted, .code = 0, .signal = 0,
                      .detail = "sbatch: error: invalid partition specified: gone"});
  }
  ASSERT_TRUE(WaitStatus("j", JobStatus::kFailed)) << Events("j");
  EXPECT_NE(Record("j").state.error.find("could not be started: sbatch: error: invalid partition specified: gone"),
            std::string::npos)
      << Record("j").state.error;
}

TEST_F(JobManagerTest, JobShowListsWhereEachAgentRuns) {
  AddJob("j", {{"a.csv", "x\n"}});
  StartManager();
  ASSERT_TRUE(WaitFor([&] { return launcher_.launched() == 1; }));
  ASSERT_TRUE(WaitFor([&] {
    auto view = jm_->GetJob("j");
    return view && view->contains("agents") && (*view)["agents"].size() == 1 &&
           (*view)["agents"][0].value("host", "") == "fakehost";
  }));
  auto view = *jm_->GetJob("j");
  EXPECT_EQ(view["agents"][0]["node"], 0);
  EXPECT_EQ(view["agents"][0]["id"], "fake 1");
}

TEST_F(JobManagerTest, AJobWithNoItemsCompletesAndSaysWhy) {
  AddJob("j", {{"a.csv", "h1,h2\n"}});
  StartManager();
  ASSERT_TRUE(WaitStatus("j", JobStatus::kRunning));
  Commit("j", Lease("j"), "h1,h2,prediction", /*rows_each=*/0);
  ASSERT_TRUE(WaitStatus("j", JobStatus::kCompleted)) << Events("j");
  EXPECT_NE(Events("j").find("the input held no items to score"), std::string::npos) << Events("j");
  EXPECT_EQ(Record("j").state.output_rows, 0);
  EXPECT_TRUE(fs::exists(dir_ / "out" / "j" / "predictions.csv"));
  EXPECT_EQ(Result("j").find("logs/user/error"), std::string::npos);
}

TEST_F(JobManagerTest, NoItemSucceededNamesTheFirstFailureAndFilesThatExist) {
  AddJob("j", {{"a.csv", "x\n"}}, {{"max_retries", 0}});
  StartManager();
  ASSERT_TRUE(WaitStatus("j", JobStatus::kRunning));
  json t = Lease("j");
  ASSERT_EQ(t.size(), 1u);
  AttemptReport r;
  r.lease = t[0]["lease"];
  r.worker = "node0/process000";
  r.outcome = "RUN_EXCEPTION";
  r.error = "ValueError: boom";
  ASSERT_TRUE(jm_->FailAttempt("j", t[0]["id"], r));
  ASSERT_TRUE(WaitStatus("j", JobStatus::kFailed));
  std::string error = Record("j").state.error;
  EXPECT_NE(error.find("first failure: mini-batch 1 (a.csv): RUN_EXCEPTION: ValueError: boom"), std::string::npos)
      << error;
  EXPECT_NE(Result("j").find("ValueError: boom"), std::string::npos) << Result("j");
  EXPECT_TRUE(fs::exists(home_.jobs() / "j" / "logs" / "sys" / "job_report" / "processed_mini-batches.csv"));
}

TEST_F(JobManagerTest, AStorageErrorFailsTheJobAtOnceWithItsReason) {
  AddJob("j", {{"a.csv", "x\n"}, {"b.csv", "x\n"}});
  StartManager();
  ASSERT_TRUE(WaitStatus("j", JobStatus::kRunning));
  Lease("j");
  jm_->ReportStorageError("j", IoError("cannot store the rows of 1 mini-batches: No space left on device"));
  ASSERT_TRUE(WaitStatus("j", JobStatus::kFailed));
  EXPECT_NE(Record("j").state.error.find("No space left on device"), std::string::npos);
  EXPECT_NE(Result("j").find("No space left on device"), std::string::npos) << Result("j");
}

TEST_F(JobManagerTest, TheSchedulerSurvivesStoreFailuresAndGoesOn) {
  AddJob("j", {{"a.csv", "x\n"}});
  StartManager();
  ASSERT_TRUE(WaitStatus("j", JobStatus::kRunning));
  hooked_->fail_get_job = 50;
  ASSERT_TRUE(WaitFor([&] { return hooked_->fail_get_job == 0; }));
  Commit("j", Lease("j"));
  ASSERT_TRUE(WaitStatus("j", JobStatus::kCompleted));
}

TEST_F(JobManagerTest, AnUnreadableJobDocumentFailsThatJobAlone) {
  AddJob("bad", {{"a.csv", "x\n"}}, {{"instance_count", "two"}});
  AddJob("good", {{"a.csv", "x\n"}});
  StartManager();
  ASSERT_TRUE(WaitStatus("bad", JobStatus::kFailed));
  EXPECT_NE(Record("bad").state.error.find("settings.instance_count"), std::string::npos) << Record("bad").state.error;
  ASSERT_TRUE(WaitStatus("good", JobStatus::kRunning));
  Commit("good", Lease("good"));
  ASSERT_TRUE(WaitStatus("good", JobStatus::kCompleted));
}

TEST_F(JobManagerTest, MiniBatchesWhoseCommittedRowsWereLostRunAgain) {
  AddJob("j", {{"a.csv", "x\n"}, {"b.csv", "x\n"}});
  hooked_->on_transition = [&](const std::string& job, JobStatus to) -> Status {
    if (to == JobStatus::kFinalizing) {
      hooked_->on_transition = nullptr;
      std::error_code ec;
      for (auto& f : fs::directory_iterator(home_.jobs() / job / "results")) fs::remove(f.path(), ec);
      // With the output assembled so far (early_assembly.h): a power cut
      // took both.
      fs::remove(dir_ / "out" / job / ".predictions.csv.lote-j.tmp", ec);
    }
    return {};
  };
  StartManager();
  ASSERT_TRUE(WaitStatus("j", JobStatus::kRunning));
  Commit("j", Lease("j"));
  Commit("j", Lease("j"));
  // The rows are gone: both mini-batches are handed out again.
  json again;
  ASSERT_TRUE(WaitFor([&] {
    json t = Lease("j");
    for (auto& x : t) again.push_back(x);
    return again.size() == 2;
  })) << Events("j");
  Commit("j", again);
  ASSERT_TRUE(WaitStatus("j", JobStatus::kCompleted)) << Events("j");
  EXPECT_EQ(*ReadFile(dir_ / "out" / "j" / "predictions.csv"), "task,result\n1,ok\n2,ok\n");
  EXPECT_EQ(sqlite_->Counters("j")->items_succeeded, 2);
}

TEST_F(JobManagerTest, RowsUnderAnotherHeaderFailTheirMiniBatch) {
  AddJob("j", {{"a.csv", "x\n"}, {"b.csv", "x\n"}});
  StartManager();
  ASSERT_TRUE(WaitStatus("j", JobStatus::kRunning));
  Commit("j", Lease("j"), "task,result");
  json second = Commit("j", Lease("j"), "task,other");
  ASSERT_EQ(second["dropped"].size(), 1u);
  ASSERT_TRUE(WaitStatus("j", JobStatus::kCompleted));
  EXPECT_EQ(*ReadFile(dir_ / "out" / "j" / "predictions.csv"), "task,result\n1,ok\n");
  EXPECT_EQ(sqlite_->Counters("j")->tasks_failed, 1);
  EXPECT_NE(Events("j").find("RUN_HEADER_MISMATCH"), std::string::npos);
}

TEST_F(JobManagerTest, AFileNameThatCannotBeStoredFailsTheJobNotTheServer) {
  AddJob("j", {{"caf\xe9.csv", "x\n"}});
  AddJob("k", {{"a.csv", "x\n"}});
  StartManager();
  ASSERT_TRUE(WaitFor([&] { return store::IsTerminal(StatusOf("j")) || StatusOf("j") == JobStatus::kRunning; }));
  ASSERT_TRUE(WaitStatus("k", JobStatus::kRunning));
  Commit("k", Lease("k"));
  ASSERT_TRUE(WaitStatus("k", JobStatus::kCompleted));
}

TEST(JobStateTest, OnlyTheDocumentedTransitionsAreAllowed) {
  using S = JobStatus;
  EXPECT_TRUE(TransitionAllowed(S::kNotStarted, S::kPreparing));
  EXPECT_TRUE(TransitionAllowed(S::kRunning, S::kCancelRequested));
  EXPECT_TRUE(TransitionAllowed(S::kCancelRequested, S::kCanceled));
  EXPECT_FALSE(TransitionAllowed(S::kCancelRequested, S::kRunning));
  EXPECT_FALSE(TransitionAllowed(S::kFinalizing, S::kCancelRequested));
  for (S terminal : {S::kCompleted, S::kFailed, S::kCanceled}) {
    for (S to : {S::kNotStarted, S::kPreparing, S::kRunning, S::kFinalizing, S::kCompleted, S::kFailed,
                 S::kCancelRequested, S::kCanceled}) {
      EXPECT_FALSE(TransitionAllowed(terminal, to));
    }
  }
}

}  // namespace
}  // namespace lote::jobs
