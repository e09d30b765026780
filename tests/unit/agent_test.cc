#include "agent/agent.h"

#include <pthread.h>
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "agent/agent_config.h"
#include "agent/agent_logs.h"
#include "agent_fake_control_plane.h"
#include "common/crypto.h"
#include "runtime_stub_worker.h"

namespace lote::agent {
namespace {

using lote::testing::FakeControlPlane;
using lote::testing::Slurp;
using lote::testing::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

constexpr char kJob[] = "mybatchedp-20261125-130501-a3f9";

bool ProcessGone(pid_t pid) {
  if (kill(pid, 0) != 0) return true;
  std::string stat = Slurp("/proc/" + std::to_string(pid) + "/stat");
  auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

// Counts occurrences of needle in haystack.
int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    runner_ = lote::testing::WriteStubWorker(dir_.path());
    fs::create_directories(pid_dir());
  }

  fs::path log_dir() const { return dir_.path() / "logs"; }
  fs::path pid_dir() const { return dir_.path() / "pids"; }
  fs::path item(const std::string& name) const { return dir_.path() / "data" / name; }
  json Items(std::initializer_list<const char*> names) const {
    json items = json::array();
    for (const char* n : names) items.push_back({{"path", item(n).string()}});
    return items;
  }

  json Config(int concurrency, int timeout_s, json options = json::object()) const {
    options["pid_dir"] = pid_dir().string();
    return {{"job", kJob},
            {"status", "Running"},
            {"runtime",
             {{"kind", "python"},
              {"python", "python3"},
              {"runner", runner_.string()},
              {"code_dir", nullptr},
              {"scoring_script", nullptr},
              {"model_dir", (dir_.path() / "model").string()},
              {"options", options}}},
            {"settings",
             {{"max_concurrency_per_instance", concurrency},
              {"timeout_s", timeout_s},
              {"max_retries", 3},
              {"logging_level", "debug"},
              {"environment_variables",
               {{"MY_VAR", "from-deployment"},
                {"MY_NUMBER", 5},
                {"STUB_REPORT_ENV",
                 "MY_VAR,MY_NUMBER,LOTE_JOB,LOTE_NODE,LOTE_PROCESS,PYTHONUNBUFFERED,"
                 "LOTE_TOKEN"}}}}},
            {"output_dir", (dir_.path() / "out").string()},
            {"log_dir", log_dir().string()}};
  }

  AgentOptions Options(const FakeControlPlane& cp) const {
    AgentOptions o;
    o.server_url = cp.url();
    o.token = FakeControlPlane::kToken;
    o.job = kJob;
    o.node = 0;
    o.server_timeout_s = 2;
    o.tuning.idle_poll = std::chrono::milliseconds(10);
    o.tuning.restart_backoff = std::chrono::milliseconds(10);
    o.tuning.min_init_timeout_s = 10;
    o.tuning.shutdown_grace = std::chrono::milliseconds(2000);
    return o;
  }

  // Pids of every worker the stub started (it leaves a file per pid).
  std::vector<pid_t> WorkerPids() const {
    std::vector<pid_t> pids;
    for (const auto& e : fs::directory_iterator(pid_dir())) {
      pids.push_back(std::stoi(e.path().filename().string()));
    }
    return pids;
  }
  void ExpectAllWorkersGone() const {
    for (pid_t pid : WorkerPids()) EXPECT_TRUE(ProcessGone(pid)) << "worker " << pid << " lives";
  }

  std::string ErrorLog(int process) const {
    return Slurp(log_dir() / "user/error/node0" / (ProcessName(process) + ".txt"));
  }
  std::string SysLogText() const { return Slurp(log_dir() / "sys/node/node0/agent.txt"); }

  TempDir dir_;
  fs::path runner_;
};

std::string PidOfRows(const std::string& body) {
  auto comma = body.find(',');
  auto nl = body.find('\n');
  return comma == std::string::npos ? "" : body.substr(comma + 1, nl - comma - 1);
}

TEST_F(AgentTest, ScoresReportsFailuresAndReplacesWorkers) {
  FakeControlPlane cp(kJob, Config(/*concurrency=*/1, /*timeout_s=*/1));
  cp.AddTask(Items({"a.csv", "b.csv"}));     // 1: result
  cp.AddTask(Items({"raise.csv"}));          // 2: run_failed
  cp.AddTask(Items({"c.csv"}));              // 3: result, same worker
  cp.AddTask(Items({"sleep.csv"}));          // 4: timeout
  cp.AddTask(Items({"d.csv"}));              // 5: result, fresh worker
  cp.AddTask(Items({"exit3.csv"}));          // 6: crash
  cp.AddTask(Items({"e.csv"}));              // 7: result, fresh worker
  cp.AddTask(Items({"segv.csv"}));           // 8: crash on a signal
  cp.AddTask(Items({"partial.csv", "f.csv"}));  // 9: result with a failed item

  auto t0 = std::chrono::system_clock::now();
  auto code = RunAgent(Options(cp));
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, kAgentExitFinished);

  auto results = cp.results();
  ASSERT_EQ(results.size(), 5u);
  const auto& r1 = results[0];
  EXPECT_EQ(r1.id, 1);
  EXPECT_EQ(r1.Header("X-Lote-Lease"), cp.tasks()[0].lease);
  EXPECT_EQ(r1.Header("X-Lote-Worker"), "node0/process000");
  EXPECT_EQ(r1.Header("X-Lote-Succeeded"), "2");
  EXPECT_EQ(r1.Header("X-Lote-Failed"), "0");
  EXPECT_EQ(r1.Header("X-Lote-Header"), "file,pid");
  int64_t started = std::stoll(r1.Header("X-Lote-Started-Ms"));
  int64_t t0_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t0.time_since_epoch()).count();
  EXPECT_GE(started, t0_ms);
  EXPECT_LT(started, t0_ms + 60'000);
  EXPECT_GE(std::stoll(r1.Header("X-Lote-Elapsed-Ms")), 0);
  std::string pid1 = PidOfRows(r1.body);
  EXPECT_EQ(r1.body, item("a.csv").string() + "," + pid1 + "\n" + item("b.csv").string() + "," +
                         pid1 + "\n");

  EXPECT_EQ(results[1].id, 3);
  EXPECT_EQ(PidOfRows(results[1].body), pid1) << "a run_failed keeps the worker";
  EXPECT_EQ(results[2].id, 5);
  std::string pid5 = PidOfRows(results[2].body);
  EXPECT_NE(pid5, pid1) << "a timed-out worker is replaced";
  EXPECT_EQ(results[3].id, 7);
  std::string pid7 = PidOfRows(results[3].body);
  EXPECT_NE(pid7, pid5) << "a crashed worker is replaced";
  EXPECT_EQ(results[4].id, 9);
  EXPECT_EQ(results[4].Header("X-Lote-Succeeded"), "1");
  EXPECT_EQ(results[4].Header("X-Lote-Failed"), "1");
  EXPECT_EQ(results[4].item_errors,
            json::array({{{"item", item("partial.csv").string()}, {"error", "cannot parse"}}}))
      << "the item error goes to the control plane (without its traceback)";
  EXPECT_TRUE(results[0].item_errors.is_null()) << "a result without errors sends none";

  auto fails = cp.fails();
  ASSERT_EQ(fails.size(), 4u);
  EXPECT_EQ(fails[0].id, 2);
  EXPECT_EQ(fails[0].body["outcome"], "RUN_EXCEPTION");
  EXPECT_EQ(fails[0].body["error"], "run() raised ValueError: bad row");
  EXPECT_EQ(fails[0].body["traceback"], "Traceback (most recent call last):\nValueError: bad row\n");
  EXPECT_EQ(fails[0].body["lease"], cp.tasks()[1].lease);
  EXPECT_EQ(fails[0].body["worker"], "node0/process000");
  EXPECT_EQ(fails[1].id, 4);
  EXPECT_EQ(fails[1].body["outcome"], "RUN_TIMEOUT");
  EXPECT_EQ(fails[1].body["error"], "run() did not finish within 1 s; the worker was killed");
  EXPECT_GE(fails[1].body["elapsed_ms"].get<int64_t>(), 900);
  EXPECT_EQ(fails[2].id, 6);
  EXPECT_EQ(fails[2].body["outcome"], "RUN_CRASH");
  EXPECT_EQ(fails[2].body["error"], "worker exited with code 3");
  EXPECT_NE(fails[2].body["traceback"].get<std::string>().find("exiting with 3"),
            std::string::npos)
      << "the crash carries the worker's last stderr";
  EXPECT_EQ(fails[3].id, 8);
  EXPECT_EQ(fails[3].body["outcome"], "RUN_CRASH");
  EXPECT_EQ(fails[3].body["error"], "worker killed by signal 11 (SIGSEGV)");

  EXPECT_EQ(cp.lease_workers(), std::set<std::string>{"node0/process000"});
  ExpectAllWorkersGone();
  EXPECT_EQ(WorkerPids().size(), 4u) << "first worker + three replacements";

  std::string errors = ErrorLog(0);
  EXPECT_NE(errors.find("mini-batch 2  attempt 1  RUN_EXCEPTION\nitems (1): " +
                        item("raise.csv").string() +
                        "\nerror: run() raised ValueError: bad row\ntraceback:\n"
                        "  Traceback (most recent call last):\n  ValueError: bad row\n"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("mini-batch 4  attempt 1  RUN_TIMEOUT"), std::string::npos);
  EXPECT_NE(errors.find("mini-batch 6  attempt 1  RUN_CRASH"), std::string::npos);
  EXPECT_NE(errors.find("mini-batch 8  attempt 1  RUN_CRASH"), std::string::npos);
  EXPECT_NE(errors.find("mini-batch 9  attempt 1  ITEM_FAILED\nitems (1): " +
                        item("partial.csv").string() + "\nerror: cannot parse"),
            std::string::npos)
      << errors;

  std::string out = Slurp(log_dir() / "user/stdout/node0/process000.stdout.txt");
  EXPECT_EQ(Count(out, "stub init process 0"), 4);
  EXPECT_NE(out.find(R"(stub env {"LOTE_JOB": ")" + std::string(kJob) +
                     R"(", "LOTE_NODE": "0", "LOTE_PROCESS": "0", "LOTE_TOKEN": null, )"
                     R"("MY_NUMBER": "5", "MY_VAR": "from-deployment", "PYTHONUNBUFFERED": "1"})"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("stub shutdown"), std::string::npos) << "finished sends shutdown";
  EXPECT_NE(Slurp(log_dir() / "user/stdout/node0/process000.stderr.txt").find("about to raise"),
            std::string::npos);
  std::string sys = SysLogText();
  EXPECT_NE(sys.find("RUN_TIMEOUT"), std::string::npos) << sys;
  EXPECT_NE(sys.find("agent exits"), std::string::npos) << sys;
}

// A million bad rows would make the result batch's metadata unbounded: the
// agent reports 99 and says how many more there were.
TEST_F(AgentTest, ReportsAtMost100ItemErrorsPerResult) {
  FakeControlPlane cp(kJob, Config(/*concurrency=*/1, /*timeout_s=*/5));
  cp.AddTask(Items({"manybad.csv"}));
  auto code = RunAgent(Options(cp));
  ASSERT_TRUE(code) << code.error().message();
  auto results = cp.results();
  ASSERT_EQ(results.size(), 1u);
  const json& errs = results[0].item_errors;
  ASSERT_EQ(errs.size(), 100u);
  EXPECT_EQ(errs[0], json({{"item", item("manybad.csv").string()}, {"error", "row 0 is bad"}, {"row", "0"},
                           {"column", "x"}}))
      << "an integer row is sent as text";
  EXPECT_EQ(errs[98]["row"], "98");
  EXPECT_EQ(errs[99]["error"], "151 more item errors in this result (listed in the agent's error log)");
  EXPECT_EQ(results[0].Header("X-Lote-Failed"), "250");
}

TEST_F(AgentTest, SlotsWorkInParallelWithTheirOwnNames) {
  FakeControlPlane cp(kJob, Config(/*concurrency=*/3, /*timeout_s=*/5));
  for (int i = 0; i < 9; ++i) cp.AddTask(Items({"x.csv"}));
  auto code = RunAgent(Options(cp));
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(cp.results().size(), 9u);
  EXPECT_EQ(cp.lease_workers(),
            (std::set<std::string>{"node0/process000", "node0/process001", "node0/process002"}));
  for (int p = 0; p < 3; ++p) {
    EXPECT_TRUE(fs::exists(log_dir() / "user/stdout/node0" / (ProcessName(p) + ".stdout.txt")));
  }
  ExpectAllWorkersGone();
}

TEST_F(AgentTest, FastMiniBatchesAreLeasedAndReportedInBatches) {
  FakeControlPlane cp(kJob, Config(/*concurrency=*/1, /*timeout_s=*/5));
  cp.SetLeasing(/*n=*/64, /*lease_ms=*/65'000);
  for (int i = 0; i < 200; ++i) {
    cp.AddTask(json::array({{{"path", item("x" + std::to_string(i) + ".csv").string()}}}));
  }
  auto code = RunAgent(Options(cp));
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, 0);
  auto results = cp.results();
  ASSERT_EQ(results.size(), 200u);
  std::set<int64_t> ids;
  for (const auto& r : results) {
    ids.insert(r.id);
    EXPECT_EQ(r.body.substr(0, r.body.find(',')), item("x" + std::to_string(r.id - 1) + ".csv").string())
        << "each result carries its own rows";
  }
  EXPECT_EQ(ids.size(), 200u) << "every mini-batch reported once";
  EXPECT_GT(cp.max_asked(), 1) << "after fast runs the slot asks for more than one";
  EXPECT_LT(cp.lease_calls(), 100) << "far fewer lease calls than mini-batches";
  EXPECT_EQ(cp.released(), 0);
}

TEST_F(AgentTest, TasksThatCouldNotFinishInTheirLeaseAreHandedBack) {
  // lease_ms leaves no time to start a second task within the lease (it is
  // about the run timeout plus the margin), so after the first of a lease the
  // rest go back unstarted and are leased again.
  FakeControlPlane cp(kJob, Config(/*concurrency=*/1, /*timeout_s=*/1));
  cp.SetLeasing(/*n=*/3, /*lease_ms=*/6'000);
  for (int i = 0; i < 4; ++i) cp.AddTask(Items({"a.csv"}));
  auto code = RunAgent(Options(cp));
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(cp.results().size(), 4u);
  EXPECT_GT(cp.released(), 0);
  for (const auto& t : cp.tasks()) EXPECT_EQ(t.state, "done") << t.id;
  EXPECT_NE(SysLogText().find("could not finish within their lease"), std::string::npos) << SysLogText();
}

TEST_F(AgentTest, StaleLeaseIsLoggedAndTheAgentGoesOn) {
  FakeControlPlane cp(kJob, Config(1, 5));
  cp.AddTask(Items({"a.csv"}));
  cp.AddTask(Items({"raise.csv"}));
  cp.AddTask(Items({"b.csv"}));
  cp.ConflictOn(1);
  cp.ConflictOn(2);
  auto code = RunAgent(Options(cp));
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, 0);
  ASSERT_EQ(cp.results().size(), 2u);
  EXPECT_EQ(cp.results()[1].id, 3);
  EXPECT_EQ(Count(SysLogText(), "the lease is no longer current"), 2) << SysLogText();
}

TEST_F(AgentTest, InitFailureOnEverySlotExits3WithoutLeasing) {
  FakeControlPlane cp(kJob, Config(/*concurrency=*/2, 5, {{"fail_init", true}}));
  cp.AddTask(Items({"a.csv"}));
  auto code = RunAgent(Options(cp));
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, kAgentExitNoWorkers);
  EXPECT_EQ(cp.lease_calls(), 0) << "nothing is leased before a worker is ready";
  for (int p = 0; p < 2; ++p) {
    std::string errors = ErrorLog(p);
    EXPECT_EQ(Count(errors, "INIT_FAILED"), 4) << "one start and three retries\n" << errors;
    EXPECT_NE(errors.find("worker start 4 of 4  INIT_FAILED\nerror: init() raised RuntimeError: "
                          "no model\ntraceback:\n  Traceback (most recent call last):\n"),
              std::string::npos)
        << errors;
  }
  EXPECT_NE(SysLogText().find("no worker could be started: all 2 worker process(es) failed"),
            std::string::npos)
      << SysLogText();
  ExpectAllWorkersGone();
}

TEST_F(AgentTest, CrashDuringInitAndExecFailureAreRetriedThenGiveUp) {
  {
    FakeControlPlane cp(kJob, Config(1, 5, {{"crash_init", true}}));
    auto o = Options(cp);
    o.tuning.worker_start_retries = 1;
    auto code = RunAgent(o);
    ASSERT_TRUE(code) << code.error().message();
    EXPECT_EQ(*code, kAgentExitNoWorkers);
    std::string errors = ErrorLog(0);
    EXPECT_EQ(Count(errors, "error: worker exited with code 5 during init"), 2) << errors;
  }
  {
    json config = Config(1, 5);
    config["runtime"]["python"] = "/nonexistent/python3";
    FakeControlPlane cp(kJob, config);
    auto o = Options(cp);
    o.tuning.worker_start_retries = 0;
    auto code = RunAgent(o);
    ASSERT_TRUE(code) << code.error().message();
    EXPECT_EQ(*code, kAgentExitNoWorkers);
    EXPECT_NE(ErrorLog(0).find("error: cannot start worker '/nonexistent/python3': No such file "
                               "or directory"),
              std::string::npos)
        << ErrorLog(0);
  }
}

TEST_F(AgentTest, UnreachableControlPlaneExits4) {
  AgentOptions o;
  {
    FakeControlPlane cp(kJob, Config(1, 5));
    o = Options(cp);
  }  // gone: its port now refuses connections
  o.server_timeout_s = 1;
  auto t0 = std::chrono::steady_clock::now();
  auto code = RunAgent(o);
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, kAgentExitUnreachable);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

TEST_F(AgentTest, ControlPlaneGoingAwayMidJobExits4AndKillsWorkers) {
  FakeControlPlane cp(kJob, Config(2, 5));
  cp.SetLeaseUnavailable(true);
  auto o = Options(cp);
  o.server_timeout_s = 1;
  auto code = RunAgent(o);
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, kAgentExitUnreachable);
  EXPECT_GT(cp.lease_calls(), 2) << "the lease was retried";
  EXPECT_EQ(WorkerPids().size(), 2u);
  ExpectAllWorkersGone();
  EXPECT_NE(SysLogText().find("has been unreachable for 1 s"), std::string::npos) << SysLogText();
}

TEST_F(AgentTest, BadTokenIsAnError) {
  FakeControlPlane cp(kJob, Config(1, 5));
  auto o = Options(cp);
  o.token = "wrong";
  auto code = RunAgent(o);
  ASSERT_FALSE(code);
  EXPECT_EQ(code.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(code.error().message().find("bad token"), std::string::npos)
      << code.error().message();
}

TEST_F(AgentTest, EndedJobStartsNothing) {
  json config = Config(1, 5);
  config["status"] = "Canceled";
  FakeControlPlane cp(kJob, config);
  auto code = RunAgent(Options(cp));
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(WorkerPids().empty());
  EXPECT_EQ(cp.lease_calls(), 0);
}

TEST_F(AgentTest, StopKillsWorkersAtOnceAndReportsNothing) {
  FakeControlPlane cp(kJob, Config(2, /*timeout_s=*/60));
  cp.AddTask(Items({"sleep.csv"}));
  Agent agent(Options(cp));
  auto run = std::async(std::launch::async, [&] { return agent.Run(); });
  // Wait until one worker is stuck in its run and the other is polling.
  for (int i = 0; i < 1000 && cp.tasks()[0].state != "leased"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(cp.tasks()[0].state, "leased");
  // Both workers started (each writes its pid first thing); a fixed sleep was
  // too short on a loaded machine or under ThreadSanitizer.
  for (int i = 0; i < 1000 && WorkerPids().size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(WorkerPids().size(), 2u);
  auto t0 = std::chrono::steady_clock::now();
  agent.Stop(143, "test");
  ASSERT_EQ(run.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  auto code = run.get();
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, 143);
  EXPECT_TRUE(cp.fails().empty());
  EXPECT_EQ(WorkerPids().size(), 2u);
  ExpectAllWorkersGone();
}

TEST_F(AgentTest, SigtermKillsWorkersAndExits143) {
  // Every thread of this test blocks SIGTERM (threads inherit the mask), so
  // the process-directed signal can only reach the agent's signal thread.
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old);
  {
    FakeControlPlane cp(kJob, Config(1, /*timeout_s=*/60));
    cp.AddTask(Items({"sleep.csv"}));
    std::thread killer([&] {
      for (int i = 0; i < 1000 && cp.tasks()[0].state != "leased"; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      kill(getpid(), SIGTERM);
    });
    auto code = RunAgent(Options(cp));
    killer.join();
    ASSERT_TRUE(code) << code.error().message();
    EXPECT_EQ(*code, 143);
    EXPECT_TRUE(cp.fails().empty());
    ExpectAllWorkersGone();
    EXPECT_NE(SysLogText().find("agent stopped: received SIGTERM"), std::string::npos)
        << SysLogText();
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

TEST(AgentConfigTest, ParsesTheDocumentedExample) {
  auto c = ParseAgentConfig(json::parse(R"({
    "job": "j1", "status": "Running",
    "runtime": {"kind": "python", "python": "python3", "runner": "/r/lote_runner.py",
                "code_dir": "/code", "scoring_script": "score.py", "model_dir": "/m",
                "options": {"driver": "mlflow"}},
    "settings": {"max_concurrency_per_instance": 2, "timeout_s": 30, "max_retries": 3,
                 "logging_level": "info", "environment_variables": {"K": "V", "N": 1}},
    "output_dir": "/out", "log_dir": "/logs"})"));
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->job, "j1");
  EXPECT_EQ(c->runner, "/r/lote_runner.py");
  EXPECT_EQ(c->code_dir, "/code");
  EXPECT_EQ(c->scoring_script, "score.py");
  EXPECT_EQ(c->runtime_options["driver"], "mlflow");
  EXPECT_EQ(c->max_concurrency_per_instance, 2);
  EXPECT_EQ(c->timeout_s, 30);
  EXPECT_EQ(c->environment_variables, (std::map<std::string, std::string>{{"K", "V"}, {"N", "1"}}));
  EXPECT_FALSE(c->JobEnded());
}

TEST(AgentConfigTest, RefusesWhatItCannotRun) {
  json base = json::parse(R"({"job": "j1", "runtime": {"kind": "python", "runner": "/r.py",
      "model_dir": "/m"}, "output_dir": "/out", "log_dir": "/logs"})");
  ASSERT_TRUE(ParseAgentConfig(base));

  json native = base;
  native["runtime"] = {{"kind", "native"}, {"model_dir", "/m"}};
  EXPECT_TRUE(ParseAgentConfig(native));  // the native worker needs no runner

  json onnx = base;
  onnx["runtime"]["kind"] = "onnx";
  auto r = ParseAgentConfig(onnx);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field(), "runtime.kind");
  EXPECT_EQ(r.error().message(), "runtime 'onnx' is not supported by this agent (it runs 'python' and 'native')");

  json zero = base;
  zero["settings"] = {{"max_concurrency_per_instance", 0}};
  r = ParseAgentConfig(zero);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field(), "settings.max_concurrency_per_instance");

  json no_runner = base;
  no_runner["runtime"].erase("runner");
  r = ParseAgentConfig(no_runner);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field(), "runtime.runner");
  EXPECT_EQ(r.error().message(), "missing");
}

TEST(AgentLogsTest, LayoutAndNames) {
  NodeLogLayout l{"/logs", 2};
  EXPECT_EQ(l.worker_stdout(1), "/logs/user/stdout/node2/process001.stdout.txt");
  EXPECT_EQ(l.worker_stderr(1), "/logs/user/stdout/node2/process001.stderr.txt");
  EXPECT_EQ(l.error_log(12), "/logs/user/error/node2/process012.txt");
  EXPECT_EQ(l.agent_log(), "/logs/sys/node/node2/agent.txt");
  EXPECT_EQ(WorkerName(0, 1), "node0/process001");
}

TEST(AgentLogsTest, FailureBlockListsItemsAndIndentsTheTraceback) {
  FailureRecord r;
  r.mini_batch = 17;
  r.attempt = 2;
  r.items = json::array({{{"path", "/a.csv"}}, {{"path", "/b.csv"}, {"offset", 0}, {"length", 64}}});
  r.outcome = "RUN_EXCEPTION";
  r.error = "boom";
  r.traceback = "line 1\nline 2\n";
  std::string block = FormatFailure(r);
  EXPECT_EQ(block.substr(0, 5), "==== ");
  EXPECT_NE(block.find("  mini-batch 17  attempt 2  RUN_EXCEPTION\n"
                       "items (2): /a.csv, /b.csv [bytes 0+64]\n"
                       "error: boom\n"
                       "traceback:\n  line 1\n  line 2\n\n"),
            std::string::npos)
      << block;
}

}  // namespace
}  // namespace lote::agent
