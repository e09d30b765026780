// The agent's client side of results by file (agent/control_plane_client.h
// PostResults with results_dir): by file when the control plane takes it, the
// body when the file cannot be written or the control plane cannot see it,
// and never the body after the control plane took the file.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "agent/control_plane_client.h"
#include "common/results_file_name.h"
#include "common/util.h"

namespace lote::agent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// What /tasks/results-file does with the posted file.
enum class FileMode { kTake, kCannotSee, kTakeAndLoseTheAnswer };

class ResultsFileClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lote-results-client-" + RandomHex(6));
    fs::create_directories(dir_);
    server_.Post("/api/v1/jobs/j/tasks/results", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      bodies_.push_back(req.body);
      res.set_content(R"({"accepted": [1], "dropped": []})", "application/json");
    });
    server_.Post("/api/v1/jobs/j/tasks/results-file", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      json ref = json::parse(req.body);
      std::string name = ref.at("file");
      EXPECT_TRUE(IsResultsFileName(name)) << name;
      fs::path file = dir_ / name;
      if (mode_ == FileMode::kCannotSee) {
        res.status = 404;
        res.set_content(R"({"error": {"code": "NotFound", "message": "not in the staging folder", "field": "file"}})",
                        "application/json");
        return;
      }
      EXPECT_EQ(fs::file_size(file), ref.at("bytes").get<uint64_t>());
      files_.push_back(*ReadFile(file));
      fs::remove(file);  // taken (the server renames it)
      if (mode_ == FileMode::kTakeAndLoseTheAnswer) {
        res.status = 404;
        res.set_content(R"({"error": {"code": "NotFound", "message": "already taken", "field": "file"}})",
                        "application/json");
        return;
      }
      res.set_content(R"({"accepted": [1], "dropped": []})", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
    fs::remove_all(dir_);
  }
  ControlPlaneClient Client(const fs::path& results_dir) {
    return ControlPlaneClient({.server_url = "http://127.0.0.1:" + std::to_string(port_),
                               .token = "t",
                               .job = "j",
                               .unreachable_timeout_s = 2,
                               .state = nullptr,
                               .results_dir = results_dir.string()});
  }
  static std::vector<TaskResult> Results() {
    TaskResult r;
    r.task_id = 1;
    r.lease = "l";
    r.worker = "w";
    r.succeeded = 2;
    r.payload = "a,0\nb,1\n";
    return {r};
  }
  size_t FilesLeft() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++n;
    return n;
  }

  fs::path dir_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  FileMode mode_ = FileMode::kTake;
  std::vector<std::string> bodies_, files_;
};

TEST_F(ResultsFileClientTest, RowsGoByFileWhenTheControlPlaneTakesIt) {
  auto client = Client(dir_);
  auto answer = client.PostResults("w", Results());
  ASSERT_TRUE(answer) << answer.error().message();
  EXPECT_TRUE(answer->by_file);
  EXPECT_TRUE(answer->fell_back.empty());
  EXPECT_EQ(answer->accepted, std::vector<int64_t>{1});
  std::lock_guard lock(mu_);
  ASSERT_EQ(files_.size(), 1u);
  EXPECT_TRUE(bodies_.empty());
  EXPECT_NE(files_[0].find("\"bytes\":8"), std::string::npos) << files_[0];
  EXPECT_TRUE(files_[0].ends_with("}\na,0\nb,1\n")) << files_[0];
}

TEST_F(ResultsFileClientTest, AFolderItCannotWriteSendsTheBodyFromThenOn) {
  auto client = Client(dir_ / "missing");
  for (int i = 0; i < 2; ++i) {
    auto answer = client.PostResults("w", Results());
    ASSERT_TRUE(answer) << answer.error().message();
    EXPECT_FALSE(answer->by_file);
    EXPECT_EQ(answer->fell_back.empty(), i == 1) << answer->fell_back;
  }
  std::lock_guard lock(mu_);
  EXPECT_EQ(bodies_.size(), 2u);
  EXPECT_TRUE(bodies_[0].ends_with("}\na,0\nb,1\n"));
}

TEST_F(ResultsFileClientTest, AFileTheControlPlaneCannotSeeGoesInTheBodyAndIsRemoved) {
  mode_ = FileMode::kCannotSee;
  auto client = Client(dir_);
  auto answer = client.PostResults("w", Results());
  ASSERT_TRUE(answer) << answer.error().message();
  EXPECT_FALSE(answer->by_file);
  EXPECT_NE(answer->fell_back.find("not in the staging folder"), std::string::npos) << answer->fell_back;
  EXPECT_EQ(FilesLeft(), 0u);
  std::lock_guard lock(mu_);
  EXPECT_EQ(bodies_.size(), 1u);
}

// The control plane took the file but its answer was lost: sending the body
// too could commit the rows twice (were the lease checks not there) — the
// post fails as a failed POST does, and the leases settle it.
TEST_F(ResultsFileClientTest, AFileThatWasTakenIsNeverSentAgainInTheBody) {
  mode_ = FileMode::kTakeAndLoseTheAnswer;
  auto client = Client(dir_);
  auto answer = client.PostResults("w", Results());
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().code(), ErrorCode::kNotFound);
  std::lock_guard lock(mu_);
  EXPECT_EQ(files_.size(), 1u);
  EXPECT_TRUE(bodies_.empty());
}

}  // namespace
}  // namespace lote::agent
