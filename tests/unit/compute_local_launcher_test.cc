#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

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
  AgentSpec Spec() { return {"http://127.0.0.1:1", "tok", "job", 0, (dir_ / "agent.log").string()}; }
  static std::optional<std::string> WaitEnded(AgentLauncher& l, int h, std::chrono::milliseconds within) {
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
  auto launcher = MakeLocalLauncher(Script("exit 0").string());
  auto h = launcher->Launch(Spec());
  ASSERT_TRUE(h) << h.error().message();
  EXPECT_FALSE(launcher->Poll(*h));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the trap is set
  auto t0 = Clock::now();
  launcher->Stop(*h);
  EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(20)) << "Stop() must not wait for the exit";
  auto ended = WaitEnded(*launcher, *h, std::chrono::seconds(3));
  ASSERT_TRUE(ended);
  EXPECT_EQ(*ended, "exited with code 0");
  launcher->Stop(*h);  // safe on an ended agent
}

TEST_F(LocalLauncherTest, AnAgentThatIgnoresSigtermIsKilledWhenTheLauncherCloses) {
  auto launcher = MakeLocalLauncher(Script("").string());
  auto h = launcher->Launch(Spec());
  ASSERT_TRUE(h);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  pid_t pid = *h;
  auto t0 = Clock::now();
  launcher.reset();  // stops every agent and waits for them: SIGKILL after the grace
  EXPECT_GE(Clock::now() - t0, std::chrono::seconds(4));
  EXPECT_NE(::kill(pid, 0), 0) << "the agent is gone";
}

}  // namespace
}  // namespace lote::compute
