// The Slurm launcher against fake sbatch/squeue/scontrol/scancel/sacct
// scripts that keep their jobs in a folder (the real cluster is in
// tests/e2e/test_slurm_*.py), Slurm's output parsers, and RunCommand.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "common/util.h"
#include "compute/agent_launcher.h"
#include "compute/command.h"
#include "compute/slurm_status.h"

namespace lote::compute {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

TEST(SlurmStatusTest, ParsesSbatchSqueueScontrolAndSacct) {
  EXPECT_EQ(ParseSbatchId("1234\n"), "1234");
  EXPECT_EQ(ParseSbatchId("1234;cluster\n"), "1234");
  EXPECT_EQ(ParseSbatchId("sbatch: warning: x\n77\n"), "77");
  EXPECT_FALSE(ParseSbatchId("Submitted batch job 12"));
  EXPECT_FALSE(ParseSbatchId(""));

  auto q = ParseSqueue("12|RUNNING|node1|None\n13|PENDING||Resources\ngarbage\n14|CANCELLED by 0|(null)|None\n");
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[0].id, "12");
  EXPECT_EQ(q[0].nodes, "node1");
  EXPECT_EQ(q[1].state, "PENDING");
  EXPECT_EQ(q[1].reason, "Resources");
  EXPECT_EQ(q[2].state, "CANCELLED");
  EXPECT_EQ(q[2].nodes, "");

  auto s = ParseScontrolJob(
      "JobId=12 JobName=lote-j-node0 UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) "
      "ExitCode=3:0 NodeList=node2 Command=(null)\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, "FAILED");
  EXPECT_EQ(s->exit_code, 3);
  EXPECT_EQ(s->exit_signal, 0);
  EXPECT_EQ(s->nodes, "node2");
  EXPECT_FALSE(ParseScontrolJob("slurm_load_jobs error: Invalid job id specified"));

  auto a = ParseSacct("12|NODE_FAIL|0:0|node1\n");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->state, "NODE_FAIL");
  EXPECT_FALSE(ParseSacct(""));
}

TEST(SlurmStatusTest, HowAJobEndedIsAnAgentExit) {
  auto exit_of = [](std::string state, int code, int sig) {
    SlurmJob j{"9", state, "node1", "None", code, sig};
    return SlurmJobExit(j, false);
  };
  EXPECT_TRUE(SlurmJobAlive("PENDING"));
  EXPECT_TRUE(SlurmJobAlive("COMPLETING"));
  EXPECT_FALSE(SlurmJobAlive("COMPLETED"));
  EXPECT_EQ(exit_of("COMPLETED", 0, 0).kind, AgentExit::Kind::kExited);
  auto failed = exit_of("FAILED", 3, 0);
  EXPECT_EQ(failed.kind, AgentExit::Kind::kExited);
  EXPECT_EQ(failed.code, 3);
  auto killed = exit_of("FAILED", 0, 9);
  EXPECT_EQ(killed.kind, AgentExit::Kind::kKilled);
  EXPECT_EQ(killed.signal, 9);
  EXPECT_EQ(exit_of("OUT_OF_MEMORY", 0, 0).kind, AgentExit::Kind::kKilled);
  for (const char* lost : {"NODE_FAIL", "PREEMPTED", "CANCELLED", "TIMEOUT", "BOOT_FAIL", "DEADLINE"}) {
    EXPECT_EQ(exit_of(lost, 0, 0).kind, AgentExit::Kind::kLost) << lost;
  }
  EXPECT_EQ(exit_of("NODE_FAIL", 0, 0).Describe(), "was lost (the node of Slurm job 9 failed (NODE_FAIL))");
  EXPECT_EQ(exit_of("FAILED", 0, 0).kind, AgentExit::Kind::kNotStarted);
}

TEST(RunCommandTest, CollectsOutputAndExitCode) {
  auto r = RunCommand({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->Message(), "err");
  auto env = RunCommand({"sh", "-c", "printf %s \"$LOTE_X\""}, {.timeout = std::chrono::milliseconds(30000), .env = {"LOTE_X=42"}, .max_output = 1 << 20});
  ASSERT_TRUE(env);
  EXPECT_EQ(env->out, "42");
  auto missing = RunCommand({"lote-no-such-program-xyz"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

TEST(RunCommandTest, ACommandPastItsDeadlineIsKilledWithItsChildren) {
  auto t0 = Clock::now();
  // The grandchild keeps the pipes open: it must go too.
  auto r = RunCommand({"sh", "-c", "sleep 30 & sleep 30"}, {.timeout = std::chrono::milliseconds(300), .env = {}, .max_output = 1 << 20});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(3));
}

// A fake Slurm: each job is a file <dir>/job.<id> holding
// "STATE|NODES|REASON|EXITCODE".
class SlurmLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lote-slurm-" + RandomHex(6));
    fs::create_directories(dir_);
    const std::string d = dir_.string();
    Tool("sbatch", "echo \"$@\" >> " + d + "/sbatch.args\n"
                   "printf '%s\\n' \"${LOTE_TOKEN:-}\" >> " + d + "/sbatch.token\n"
                   "[ -f " + d + "/sbatch.sleep ] && sleep \"$(cat " + d + "/sbatch.sleep)\"\n"
                   "if [ -f " + d + "/sbatch.fail ]; then cat " + d + "/sbatch.fail >&2; exit 1; fi\n"
                   "case \"$*\" in *--test-only*) echo 'sbatch: Job 3 to start at now' >&2; exit 0;; esac\n"
                   "n=$(( $(cat " + d + "/next 2>/dev/null || echo 100) + 1 )); echo $n > " + d + "/next\n"
                   "echo 'RUNNING|node1|None|0:0' > " + d + "/job.$n\n"
                   "echo $n\n");
    Tool("squeue", "echo \"$@\" >> " + d + "/squeue.args\n"
                   "for f in " + d + "/job.*; do [ -e \"$f\" ] || continue; id=${f##*.}\n"
                   "IFS='|' read st node reason ex < \"$f\"; echo \"$id|$st|$node|$reason\"; done\n");
    Tool("scontrol", "f=" + d + "/job.$4\n"
                     "[ -e \"$f\" ] || { echo 'slurm_load_jobs error: Invalid job id specified' >&2; exit 1; }\n"
                     "IFS='|' read st node reason ex < \"$f\"\n"
                     "echo \"JobId=$4 JobName=x JobState=$st Reason=$reason ExitCode=$ex NodeList=$node\"\n");
    Tool("scancel", "[ -f " + d + "/scancel.sleep ] && sleep \"$(cat " + d + "/scancel.sleep)\"\n"
                    "echo \"$@\" >> " + d + "/scancel.args\n"
                    "for id in \"$@\"; do [ -e " + d + "/job.$id ] && echo 'CANCELLED|node1|None|0:15' > " + d +
                        "/job.$id; done; exit 0\n");
    Tool("sacct", "echo 'sacct: error: Slurm accounting storage is disabled' >&2; exit 1\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Tool(const std::string& name, const std::string& body) {
    fs::path p = dir_ / name;
    std::ofstream(p) << "#!/bin/sh\n" << body;
    fs::permissions(p, fs::perms::owner_all);
  }
  SlurmTools Tools() {
    SlurmTools t;
    t.sbatch = (dir_ / "sbatch").string();
    t.squeue = (dir_ / "squeue").string();
    t.scontrol = (dir_ / "scontrol").string();
    t.scancel = (dir_ / "scancel").string();
    t.sacct = (dir_ / "sacct").string();
    t.poll_interval_ms = 50;
    t.missing_grace_ms = 300;
    return t;
  }
  AgentSpec Spec(int node = 0) {
    AgentSpec s;
    s.compute.name = "hpc";
    s.compute.type = "slurm";
    s.compute.slurm.partition = "debug";
    s.compute.slurm.sbatch_args = {"--gres=gpu:1"};
    s.server_url = "http://head:8070";
    s.token = "secret-token";
    s.job = "ep-20261128-1";
    s.node = node;
    return s;
  }
  std::string Read(const std::string& name) {
    auto text = ReadFile(dir_ / name);
    return text ? *text : "";
  }
  void SetJob(const std::string& id, const std::string& line) { std::ofstream(dir_ / ("job." + id)) << line << "\n"; }
  template <typename F>
  static bool Eventually(F f, std::chrono::milliseconds within = std::chrono::seconds(5)) {
    auto until = Clock::now() + within;
    while (Clock::now() < until) {
      if (f()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return f();
  }
  std::optional<AgentExit> WaitExit(AgentLauncher& l, AgentHandle h) {
    std::optional<AgentExit> e;
    Eventually([&] { return (e = l.Poll(h)).has_value(); });
    return e;
  }
  fs::path dir_;
};

TEST_F(SlurmLauncherTest, SubmitsWithTheComputesSettingsAndTheTokenOnlyInTheEnvironment) {
  auto launcher = MakeSlurmLauncher("/opt/lote/bin/lote", Tools());
  std::ofstream(dir_ / "sbatch.sleep") << "1\n";  // a slow slurmctld
  auto t0 = Clock::now();
  auto h = launcher->Launch(Spec(1));
  ASSERT_TRUE(h) << h.error().message();
  EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(500)) << "Launch() must not wait for sbatch";
  ASSERT_TRUE(Eventually([&] { return launcher->Where(*h).id == "slurm job 101"; }));
  ASSERT_TRUE(Eventually([&] { return launcher->Where(*h).host == "node1"; }));
  EXPECT_EQ(launcher->Where(*h).state, "RUNNING");
  EXPECT_FALSE(launcher->Poll(*h));
  std::string args = Read("sbatch.args");
  EXPECT_NE(args.find("--job-name=lote-ep-20261128-1-node1"), std::string::npos) << args;
  EXPECT_NE(args.find("--partition=debug"), std::string::npos) << args;
  EXPECT_LT(args.find("--partition=debug"), args.find("--gres=gpu:1")) << "the compute's own args come last";
  EXPECT_NE(args.find("--wrap=exec '/opt/lote/bin/lote' agent --server 'http://head:8070' --job 'ep-20261128-1' "
                      "--node 1"),
            std::string::npos)
      << args;
  EXPECT_EQ(args.find("secret-token"), std::string::npos) << "the token is never on a command line";
  EXPECT_EQ(Read("sbatch.token"), "secret-token\n");
  // A leftover of an earlier server life with the same name was canceled first.
  EXPECT_NE(Read("scancel.args").find("--name=lote-ep-20261128-1-node1"), std::string::npos);
}

TEST_F(SlurmLauncherTest, HowTheSlurmJobEndedIsTheAgentsExit) {
  auto launcher = MakeSlurmLauncher("lote", Tools());
  auto a = launcher->Launch(Spec(0));
  auto b = launcher->Launch(Spec(1));
  auto c = launcher->Launch(Spec(2));
  ASSERT_TRUE(a && b && c);
  ASSERT_TRUE(Eventually([&] { return !launcher->Where(*c).id.empty(); }));
  SetJob(launcher->Where(*a).id.substr(10), "COMPLETED|node1|None|0:0");
  SetJob(launcher->Where(*b).id.substr(10), "NODE_FAIL|node2|None|0:0");
  SetJob(launcher->Where(*c).id.substr(10), "FAILED|node1|NonZeroExitCode|127:0");
  auto ea = WaitExit(*launcher, *a), eb = WaitExit(*launcher, *b), ec = WaitExit(*launcher, *c);
  ASSERT_TRUE(ea && eb && ec);
  EXPECT_EQ(ea->kind, AgentExit::Kind::kExited);
  EXPECT_EQ(ea->code, 0);
  EXPECT_EQ(eb->kind, AgentExit::Kind::kLost);
  EXPECT_NE(eb->Describe().find("NODE_FAIL"), std::string::npos) << eb->Describe();
  EXPECT_EQ(ec->kind, AgentExit::Kind::kExited);
  EXPECT_EQ(ec->code, 127);
  EXPECT_NE(ec->Describe().find("its output is /tmp/lote-ep-20261128-1-node2-"), std::string::npos)
      << ec->Describe();
  // Once returned, a handle is forgotten.
  EXPECT_EQ(launcher->Poll(*a)->kind, AgentExit::Kind::kLost);
}

TEST_F(SlurmLauncherTest, AJobSlurmForgetsIsLost) {
  auto launcher = MakeSlurmLauncher("lote", Tools());
  auto h = launcher->Launch(Spec());
  ASSERT_TRUE(Eventually([&] { return !launcher->Where(*h).id.empty(); }));
  fs::remove(dir_ / ("job." + launcher->Where(*h).id.substr(10)));
  auto e = WaitExit(*launcher, *h);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, AgentExit::Kind::kLost);
  EXPECT_NE(e->detail.find("vanished"), std::string::npos) << e->detail;
}

TEST_F(SlurmLauncherTest, ASubmissionSlurmRefusesIsNotStartedWithSlurmsMessage) {
  std::ofstream(dir_ / "sbatch.fail") << "sbatch: error: invalid partition specified: nosuch\n"
                                         "sbatch: error: Batch job submission failed: Invalid partition name specified\n";
  auto launcher = MakeSlurmLauncher("lote", Tools());
  auto h = launcher->Launch(Spec());
  auto e = WaitExit(*launcher, *h);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, AgentExit::Kind::kNotStarted);
  EXPECT_EQ(e->Describe(),
            "could not be started: sbatch: error: invalid partition specified: nosuch; sbatch: error: Batch job "
            "submission failed: Invalid partition name specified");
}

TEST_F(SlurmLauncherTest, StopCancelsTheSlurmJobEvenWhenSbatchIsStillRunning) {
  auto launcher = MakeSlurmLauncher("lote", Tools());
  auto h = launcher->Launch(Spec());
  ASSERT_TRUE(Eventually([&] { return !launcher->Where(*h).id.empty(); }));
  std::string id = launcher->Where(*h).id.substr(10);
  std::ofstream(dir_ / "scancel.sleep") << "1\n";
  auto t0 = Clock::now();
  launcher->Stop(*h);
  EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(500)) << "Stop() must not wait for scancel";
  ASSERT_TRUE(Eventually([&] { return Read("scancel.args").find(id + "\n") != std::string::npos; })) << Read("scancel.args");

  // Stopped while sbatch runs: the job it submits is canceled at once.
  fs::remove(dir_ / "scancel.sleep");
  std::ofstream(dir_ / "sbatch.sleep") << "0.3\n";
  auto late = launcher->Launch(Spec(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  launcher->Stop(*late);
  ASSERT_TRUE(Eventually([&] { return Read("scancel.args").find("102\n") != std::string::npos; }))
      << Read("scancel.args");
}

TEST_F(SlurmLauncherTest, TheServerGoingAwayCancelsItsAgents) {
  std::string id;
  {
    auto launcher = MakeSlurmLauncher("lote", Tools());
    auto h = launcher->Launch(Spec());
    ASSERT_TRUE(Eventually([&] { return !launcher->Where(*h).id.empty(); }));
    id = launcher->Where(*h).id.substr(10);
  }
  EXPECT_NE(Read("scancel.args").find(id + "\n"), std::string::npos) << Read("scancel.args");
}

TEST_F(SlurmLauncherTest, CheckAsksSlurmWithTestOnly) {
  SlurmSettings s;
  s.partition = "debug";
  EXPECT_TRUE(CheckSlurmSettings(s, Tools()));
  EXPECT_NE(Read("sbatch.args").find("--test-only"), std::string::npos);
  std::ofstream(dir_ / "sbatch.fail") << "sbatch: error: invalid partition specified: nosuch\n";
  Status bad = CheckSlurmSettings(s, Tools());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message(),
            "Slurm refused the compute's settings: sbatch: error: invalid partition specified: nosuch");
  SlurmTools none = Tools();
  none.sbatch = "lote-no-sbatch-here";
  Status missing = CheckSlurmSettings(s, none);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kFailedPrecondition);
}

TEST(LauncherRegistryTest, PicksTheLauncherOfTheComputeType) {
  LauncherRegistry reg;
  reg.Add("local", MakeLocalLauncher("/bin/true"));
  AgentSpec spec;
  spec.compute.name = "k";
  spec.compute.type = "kubernetes";
  auto refused = reg.Launch(spec);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(reg.Poll(12345)->kind, AgentExit::Kind::kLost);
}

}  // namespace
}  // namespace lote::compute
