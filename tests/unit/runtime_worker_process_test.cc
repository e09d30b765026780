#include "runtime/worker_process.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "runtime_stub_worker.h"

namespace lote::runtime {
namespace {

using lote::testing::Slurp;
using lote::testing::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

// True when pid is gone, or a zombie nobody reaped yet (in a container the
// init process may not reap orphans): either way it no longer runs.
bool ProcessGone(pid_t pid) {
  if (kill(pid, 0) != 0) return true;
  std::string stat = Slurp("/proc/" + std::to_string(pid) + "/stat");
  auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

bool EventuallyGone(pid_t pid) {
  for (int i = 0; i < 200; ++i) {
    if (ProcessGone(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

pid_t ReadPidFile(const fs::path& path) {
  for (int i = 0; i < 300; ++i) {
    std::string text = Slurp(path);
    if (!text.empty() && text.back() == '\n') return std::atoi(text.c_str());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

class RuntimeWorkerProcessTest : public ::testing::Test {
 protected:
  void SetUp() override { script_ = lote::testing::WriteStubWorker(dir_.path()); }

  WorkerOptions Options() {
    WorkerOptions o;
    o.argv = {"python3", script_.string()};
    o.stdout_path = dir_.path() / "stdout.txt";
    o.stderr_path = dir_.path() / "stderr.txt";
    return o;
  }

  // Starts the stub and takes it through hello, init and ready.
  std::unique_ptr<WorkerProcess> StartReady(WorkerOptions o) {
    auto w = WorkerProcess::Start(o);
    EXPECT_TRUE(w) << w.error().message();
    if (!w) return nullptr;
    auto hello = (*w)->Receive(10000);
    EXPECT_TRUE(hello) << hello.error().message();
    EXPECT_EQ(hello->msg["type"], "hello");
    hello_ = hello->msg;
    EXPECT_TRUE((*w)->Send({{"type", "init"}, {"protocol", 1}, {"process", 0}}));
    auto ready = (*w)->Receive(10000);
    EXPECT_TRUE(ready) << ready.error().message();
    EXPECT_EQ(ready->msg["type"], "ready");
    return std::move(*w);
  }

  json RunMessage(const std::string& name) {
    return {{"type", "run"},
            {"mini_batch", 7},
            {"attempt", 1},
            {"items", json::array({{{"path", (dir_.path() / name).string()}}})}};
  }

  TempDir dir_;
  fs::path script_;
  json hello_;
};

TEST_F(RuntimeWorkerProcessTest, HelloInitRunResultShutdown) {
  auto w = StartReady(Options());
  ASSERT_TRUE(w);
  EXPECT_EQ(hello_["pid"], w->pid());
  EXPECT_EQ(hello_["pgid"], w->pid()) << "the worker leads its own process group";

  ASSERT_TRUE(w->Send(RunMessage("a.csv")));
  auto r = w->Receive(10000);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->msg["type"], "result");
  EXPECT_EQ(r->msg["mini_batch"], 7);
  EXPECT_EQ(r->msg["succeeded"], 1);
  EXPECT_EQ(r->payload, (dir_.path() / "a.csv").string() + "," + std::to_string(w->pid()) + "\n");

  ASSERT_TRUE(w->Send({{"type", "shutdown"}}));
  EXPECT_TRUE(w->Wait(10000));
  EXPECT_EQ(w->ExitDescription(), "exited with code 0");
  EXPECT_NE(Slurp(dir_.path() / "stdout.txt").find("stub init process 0"), std::string::npos);
  EXPECT_NE(Slurp(dir_.path() / "stdout.txt").find("stub shutdown"), std::string::npos);
}

TEST_F(RuntimeWorkerProcessTest, LogsAreAppendedAcrossWorkers) {
  for (int i = 0; i < 2; ++i) {
    auto w = StartReady(Options());
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->Send({{"type", "shutdown"}}));
    EXPECT_TRUE(w->Wait(10000));
  }
  std::string out = Slurp(dir_.path() / "stdout.txt");
  EXPECT_NE(out.find("stub init"), out.rfind("stub init")) << out;
}

TEST_F(RuntimeWorkerProcessTest, EnvironmentDescriptorsAndCwd) {
  ::setenv("LOTE_TEST_INHERITED", "from-agent", 1);
  ::setenv("LOTE_TEST_SECRET", "hidden", 1);
  auto o = Options();
  o.env_extra = {{"LOTE_TEST_EXTRA", "v1"},
                 {"STUB_REPORT_ENV",
                  "LOTE_TEST_EXTRA,LOTE_TEST_INHERITED,LOTE_TEST_SECRET,LOTE_PROTOCOL_IN_FD,"
                  "LOTE_PROTOCOL_OUT_FD"}};
  o.env_remove = {"LOTE_TEST_SECRET"};
  o.cwd = dir_.path().string();
  // A descriptor the agent has open without O_CLOEXEC must not leak.
  int leaked = dup(2);
  auto w = StartReady(o);
  close(leaked);
  ::unsetenv("LOTE_TEST_INHERITED");
  ::unsetenv("LOTE_TEST_SECRET");
  ASSERT_TRUE(w);
  EXPECT_EQ(hello_["env"]["LOTE_TEST_EXTRA"], "v1");
  EXPECT_EQ(hello_["env"]["LOTE_TEST_INHERITED"], "from-agent");
  EXPECT_TRUE(hello_["env"]["LOTE_TEST_SECRET"].is_null());
  EXPECT_EQ(hello_["env"]["LOTE_PROTOCOL_IN_FD"], "3");
  EXPECT_EQ(hello_["env"]["LOTE_PROTOCOL_OUT_FD"], "4");
  EXPECT_EQ(hello_["fds"], json::array()) << "only fds 0-4 are open in the worker";
  EXPECT_EQ(fs::path(hello_["cwd"].get<std::string>()), fs::canonical(dir_.path()));
}

TEST_F(RuntimeWorkerProcessTest, RunFailedKeepsTheWorker) {
  auto w = StartReady(Options());
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->Send(RunMessage("raise.csv")));
  auto r = w->Receive(10000);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->msg["type"], "run_failed");
  EXPECT_EQ(r->msg["error"], "run() raised ValueError: bad row");
  ASSERT_TRUE(w->Send(RunMessage("b.csv")));
  r = w->Receive(10000);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->msg["type"], "result");
}

TEST_F(RuntimeWorkerProcessTest, ExitCodeIsDescribed) {
  auto w = StartReady(Options());
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->Send(RunMessage("exit3.csv")));
  auto r = w->Receive(10000);
  ASSERT_FALSE(r);
  EXPECT_TRUE(IsClosed(r.error())) << r.error().message();
  w->WaitOrKill(2000);
  EXPECT_EQ(w->ExitDescription(), "exited with code 3");
  EXPECT_NE(Slurp(dir_.path() / "stderr.txt").find("exiting with 3"), std::string::npos);
}

TEST_F(RuntimeWorkerProcessTest, CrashOnSignalIsDescribed) {
  auto w = StartReady(Options());
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->Send(RunMessage("segv.csv")));
  auto r = w->Receive(10000);
  ASSERT_FALSE(r);
  EXPECT_TRUE(IsClosed(r.error())) << r.error().message();
  w->WaitOrKill(2000);
  EXPECT_EQ(w->ExitDescription().substr(0, 31), "killed by signal 11 (SIGSEGV)");
}

TEST_F(RuntimeWorkerProcessTest, TimeoutThenKillEndsTheWholeGroup) {
  auto w = StartReady(Options());
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->Send(RunMessage("sleep-grandchild")));
  pid_t grandchild = ReadPidFile(dir_.path() / "sleep-grandchild.pid");
  ASSERT_GT(grandchild, 0);
  auto r = w->Receive(200);
  ASSERT_FALSE(r);
  EXPECT_TRUE(IsTimeout(r.error())) << r.error().message();
  EXPECT_FALSE(ProcessGone(grandchild));
  pid_t pid = w->pid();
  w->Kill();
  EXPECT_TRUE(w->reaped());
  EXPECT_EQ(w->ExitDescription(), "killed by signal 9 (SIGKILL)");
  EXPECT_TRUE(ProcessGone(pid));
  EXPECT_TRUE(EventuallyGone(grandchild)) << "grandchild " << grandchild << " survived";
}

TEST_F(RuntimeWorkerProcessTest, ExitIsSeenWhileAGrandchildHoldsThePipe) {
  auto w = StartReady(Options());
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->Send(RunMessage("orphan")));
  auto t0 = std::chrono::steady_clock::now();
  auto r = w->Receive(20000);
  ASSERT_FALSE(r);
  EXPECT_TRUE(IsClosed(r.error())) << r.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  pid_t grandchild = ReadPidFile(dir_.path() / "orphan.pid");
  ASSERT_GT(grandchild, 0);
  w->WaitOrKill(2000);
  EXPECT_EQ(w->ExitDescription(), "exited with code 3");
  EXPECT_TRUE(EventuallyGone(grandchild)) << "what the worker left in its group is killed";
}

TEST_F(RuntimeWorkerProcessTest, DestructorKillsARunningWorker) {
  pid_t pid;
  {
    auto w = StartReady(Options());
    ASSERT_TRUE(w);
    pid = w->pid();
    EXPECT_EQ(w->ExitDescription(), "is running");
  }
  EXPECT_TRUE(ProcessGone(pid));
}

TEST_F(RuntimeWorkerProcessTest, CloseInputEndsAWorkerWaitingForWork) {
  auto w = StartReady(Options());
  ASSERT_TRUE(w);
  w->CloseInput();
  EXPECT_TRUE(w->Wait(10000));
  EXPECT_EQ(w->ExitDescription(), "exited with code 0");
  auto st = w->Send({{"type", "run"}});
  ASSERT_FALSE(st);
  EXPECT_TRUE(IsClosed(st.error()));
}

TEST_F(RuntimeWorkerProcessTest, ExecFailureNamesTheCommand) {
  WorkerOptions o = Options();
  o.argv = {"/nonexistent/lote-worker"};
  auto w = WorkerProcess::Start(o);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().message(),
            "cannot start worker '/nonexistent/lote-worker': No such file or directory");

  o.argv = {"lote-no-such-worker-anywhere"};
  w = WorkerProcess::Start(o);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().message(),
            "cannot start worker 'lote-no-such-worker-anywhere': No such file or directory");

  o.argv = {script_.string()};  // exists, not executable
  ASSERT_EQ(chmod(script_.c_str(), 0644), 0);
  w = WorkerProcess::Start(o);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().message(), "cannot start worker '" + script_.string() + "': Permission denied");
}

TEST_F(RuntimeWorkerProcessTest, BadWorkingDirectoryIsReported) {
  WorkerOptions o = Options();
  o.cwd = (dir_.path() / "missing").string();
  auto w = WorkerProcess::Start(o);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().message(), "cannot start worker 'python3': cannot change directory to '" +
                                     o.cwd + "': No such file or directory");
}

TEST_F(RuntimeWorkerProcessTest, UnwritableLogIsReported) {
  WorkerOptions o = Options();
  o.stdout_path = dir_.path() / "no" / "such" / "dir" / "out.txt";
  auto w = WorkerProcess::Start(o);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().message(), "cannot start worker 'python3': cannot open '" +
                                     o.stdout_path.string() + "': No such file or directory");
}

TEST(RuntimeDescribeWaitStatusTest, Forms) {
  EXPECT_EQ(DescribeWaitStatus(1 << 8), "exited with code 1");
  EXPECT_EQ(DescribeWaitStatus(SIGSEGV), "killed by signal 11 (SIGSEGV)");
  EXPECT_EQ(DescribeWaitStatus(SIGKILL), "killed by signal 9 (SIGKILL)");
}

}  // namespace
}  // namespace lote::runtime
