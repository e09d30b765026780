// A remote agent's log shipping (agent/log_shipper.h) against the control
// plane's upload rules (jobs/node_logs.h), over real HTTP: new bytes only,
// after what the server's copy already held, and nothing twice.
#include "agent/log_shipper.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "common/util.h"
#include "jobs/node_logs.h"

namespace lote::agent {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Append(const fs::path& p, std::string_view text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::app) << text;
}

// The node-logs routes of a control plane, writing into server_logs.
class FakeLogServer {
 public:
  explicit FakeLogServer(fs::path server_logs) : logs_(std::move(server_logs)) {
    const std::string route = R"(/api/v1/jobs/j/node-logs/(.+))";
    server_.Get(route, [this](const httplib::Request& req, httplib::Response& res) {
      auto size = jobs::NodeLogSize(logs_, req.matches[1].str());
      Answer(size, res);
    });
    server_.Post(route, [this](const httplib::Request& req, httplib::Response& res) {
      ++posts_;
      auto size = jobs::WriteNodeLog(logs_, req.matches[1].str(),
                                     std::stoull(req.get_param_value("offset")), req.body);
      Answer(size, res);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeLogServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int posts() const { return posts_; }

 private:
  static void Answer(const Result<uint64_t>& size, httplib::Response& res) {
    if (!size) {
      res.status = size.error().code() == ErrorCode::kPayloadTooLarge ? 413 : 400;
      res.set_content(nlohmann::json{{"error",
                                      {{"code", std::string(ErrorCodeName(size.error().code()))},
                                       {"message", size.error().message()}}}}
                          .dump(),
                      "application/json");
      return;
    }
    res.set_content(nlohmann::json{{"size", *size}}.dump(), "application/json");
  }
  fs::path logs_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> posts_{0};
};

class LogShipperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("lote-shipper-" + RandomHex(6));
    local_ = base_ / "node" / "logs";
    server_logs_ = base_ / "server" / "logs";
    fs::create_directories(local_);
    fs::create_directories(server_logs_);
    fake_.emplace(server_logs_);
  }
  void TearDown() override {
    fake_.reset();
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  LogShipperOptions Options() {
    return {.local_root = local_,
            .client = {.server_url = fake_->url(),
                       .token = "t",
                       .job = "j",
                       .unreachable_timeout_s = 2,
                       .state = nullptr,
                       .results_dir = {}},
            .period = std::chrono::milliseconds(20),
            .final_timeout_s = 2,
            .log = nullptr};
  }
  fs::path base_, local_, server_logs_;
  std::optional<FakeLogServer> fake_;
};

TEST_F(LogShipperTest, ShipsNewBytesAfterWhatTheServerHad) {
  const std::string out = "user/stdout/node0/process000.stdout.txt";
  const std::string agent = "sys/node/node0/agent.txt";
  // A predecessor agent's lines are already on the server.
  Append(server_logs_ / out, "old line\n");
  Append(local_ / out, "first\n");
  Append(local_ / agent, "agent started\n");

  LogShipper shipper(Options());
  ControlPlaneClient client(Options().client);
  ASSERT_TRUE(shipper.ShipOnce(client));
  EXPECT_EQ(Slurp(server_logs_ / out), "old line\nfirst\n");
  EXPECT_EQ(Slurp(server_logs_ / agent), "agent started\n");

  const int posts = fake_->posts();
  ASSERT_TRUE(shipper.ShipOnce(client));
  EXPECT_EQ(fake_->posts(), posts) << "nothing new, nothing sent";

  Append(local_ / out, "second\n");
  ASSERT_TRUE(shipper.ShipOnce(client));
  EXPECT_EQ(Slurp(server_logs_ / out), "old line\nfirst\nsecond\n");
}

TEST_F(LogShipperTest, ThePeriodicThreadAndTheLastPassShipEverything) {
  const std::string err = "user/error/node0/process001.txt";
  LogShipper shipper(Options());
  shipper.Start();
  Append(local_ / err, "attempt 1 failed\n");
  for (int i = 0; i < 200 && Slurp(server_logs_ / err).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Slurp(server_logs_ / err), "attempt 1 failed\n");
  std::string big(3 << 20, 'x');  // more than one upload's worth
  Append(local_ / err, big);
  ASSERT_TRUE(shipper.Finish());
  EXPECT_EQ(Slurp(server_logs_ / err), "attempt 1 failed\n" + big);
}

TEST_F(LogShipperTest, AFileTheServerRefusesIsGivenUpAndTheRestShipped) {
  Append(local_ / "user" / "stdout" / "node0" / "ok.txt", "fine\n");
  Append(local_ / "elsewhere.txt", "not an agent's log\n");
  LogShipper shipper(Options());
  ControlPlaneClient client(Options().client);
  EXPECT_TRUE(shipper.ShipOnce(client));
  EXPECT_EQ(Slurp(server_logs_ / "user" / "stdout" / "node0" / "ok.txt"), "fine\n");
  EXPECT_FALSE(fs::exists(server_logs_ / "elsewhere.txt"));
}

TEST_F(LogShipperTest, AnUnreachableControlPlaneIsAnError) {
  Append(local_ / "sys" / "node" / "node0" / "agent.txt", "line\n");
  auto options = Options();
  fake_.reset();  // nobody listens there any more
  LogShipper shipper(options);
  auto st = shipper.Finish();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kUnavailable) << st.error().message();
}

}  // namespace
}  // namespace lote::agent
