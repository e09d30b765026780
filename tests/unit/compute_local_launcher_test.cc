#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <set>
#include <algorithm>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "compute/agent_launcher.h"

namespace lote::compute {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A stand-in for `lote agent`: a shell script that sleeps (in the background,
// so SIGTERM reaches the shell at once) and exits 0 on SIGTERM unless told
// to ignore it.
class LocalLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lote-launcher-" + RandomHex(6));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path Script(const std::string& on_term) {
    fs::path p = dir_ / ("agent-" + RandomHex(3) + ".sh");
    std::ofstream(p) << "#!/bin/sh\ntrap '" << on_term << "' TERM\nwhile true; do sleep 0.05; done\n";
    fs::permissions(p, fs::perms::owner_all);
    return p;
  }
  AgentSpec Spec() { return {{}, "http://127.0.0.1:1", "tok", "job", 0, (dir_ / "agent.log").string()}; }
  static std::optional<AgentExit> WaitEnded(AgentLauncher& l, AgentHandle h, std::chrono::milliseconds within) {
    auto until = Clock::now() + within;
    while (Clock::now() < until) {
      if (auto ended = l.Poll(h)) return ended;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::nullopt;
  }
  fs::path dir_;
};

TEST_F(LocalLauncherTest, StopReturnsAtOnceAndTheAgentIsCollected) {
  // The agent takes a second to exit after SIGTERM: a Stop() that waited
  // for it would take that long (bounds are loose: sanitizer builds on a
  // busy machine are slow).
  auto launcher = MakeLocalLauncher(Script("sleep 1; exit 0").string());
  auto h = launcher->Launch(Spec());
  ASSERT_TRUE(h) << h.error().message();
  EXPECT_FALSE(launcher->Poll(*h));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the trap is set
  auto t0 = Clock::now();
  launcher->Stop(*h);
  EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(500)) << "Stop() must not wait for the exit";
  auto ended = WaitEnded(*launcher, *h, std::chrono::seconds(3));
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->kind, AgentExit::Kind::kExited);
  EXPECT_EQ(ended->code, 0);
  EXPECT_EQ(ended->Describe(), "exited with code 0");
  launcher->Stop(*h);  // safe on an ended agent
  // Once its exit was reported, the handle is forgotten.
  auto again = launcher->Poll(*h);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->kind, AgentExit::Kind::kLost);
}

TEST_F(LocalLauncherTest, HandlesAreNeverReusedWhateverThePids) {
  auto launcher = MakeLocalLauncher(Script("exit 0").string());
  std::set<AgentHandle> seen;
  for (int i = 0; i < 5; ++i) {
    auto h = launcher->Launch(Spec());
    ASSERT_TRUE(h);
    EXPECT_TRUE(seen.insert(*h).second);
    launcher->Stop(*h);
  }
}

TEST_F(LocalLauncherTest, AnAgentGetsNoDescriptorOfTheServer) {
  // A descriptor without O_CLOEXEC, as a library's socket may be.
  fs::path marker = dir_ / "leak-marker";
  int leaked = ::open(marker.c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(leaked, 3);
  fs::path out = dir_ / "fds.txt";
  fs::path script = dir_ / "fds.sh";
  std::ofstream(script) << "#!/bin/sh\nfor f in /proc/$$/fd/*; do readlink $f; done > " << out.string() << "\n";
  fs::permissions(script, fs::perms::owner_all);
  auto launcher = MakeLocalLauncher(script.string());
  auto h = launcher->Launch(Spec());
  ASSERT_TRUE(h);
  auto ended = WaitEnded(*launcher, *h, std::chrono::seconds(5));
  ::close(leaked);
  ASSERT_TRUE(ended);
  std::string fds = *ReadFile(out);
  EXPECT_EQ(fds.find("leak-marker"), std::string::npos) << fds;
}

TEST_F(LocalLauncherTest, AStoppedAgentAndTheWorkersItStartedAreKilled) {
  // The "agent" starts a "worker" in a process group of its own (as lote's
  // workers are), then both are SIGSTOPped: SIGTERM reaches neither.
  fs::path pids = dir_ / "pids.txt";
  fs::path script = dir_ / "stopped.sh";
  std::ofstream(script) << "#!/bin/sh\nsetsid sleep 300 &\necho $! > " << pids.string()
                        << "\nwhile true; do sleep 0.05; done\n";
  fs::permissions(script, fs::perms::owner_all);
  auto launcher = MakeLocalLauncher(script.string());
  auto h = launcher->Launch(Spec());
  ASSERT_TRUE(h);
  std::string text;
  for (int i = 0; i < 200 && text.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto r = ReadFile(pids);
    if (r) text = *r;
  }
  ASSERT_FALSE(text.empty());
  pid_t worker = std::stoi(text);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // the launcher has seen the tree
  ASSERT_EQ(::kill(worker, SIGSTOP), 0);
  auto t0 = Clock::now();
  launcher->Stop(*h);
  auto ended = [&] {
    for (int i = 0; i < 1000; ++i) {
      // The worker is a child of init or of the test now: reap it if ours.
      ::waitpid(worker, nullptr, WNOHANG);
      if (::kill(worker, 0) != 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }();
  EXPECT_TRUE(ended) << "the stopped worker outlived its agent";
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(15));
}

TEST_F(LocalLauncherTest, AnAgentThatIgnoresSigtermIsKilledWhenTheLauncherCloses) {
  auto launcher = MakeLocalLauncher(Script("").string());
  auto h = launcher->Launch(Spec());
  ASSERT_TRUE(h);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto t0 = Clock::now();
  launcher.reset();  // stops every agent and waits for them: SIGKILL after the grace
  EXPECT_GE(Clock::now() - t0, std::chrono::seconds(4));
  EXPECT_FALSE(fs::exists(dir_ / "never")) << "the agent is gone";
}

}  // namespace
}  // namespace lote::compute
