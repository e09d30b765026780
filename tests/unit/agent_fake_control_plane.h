// An in-process fake of the control plane's agent API (docs/agent-api.md):
// agent-config, lease, result, fail, on 127.0.0.1 and a free port. Tasks are
// handed out in order, one lease at a time; a failed task is not retried.
// Records every answer for the test to check. Thread-safe.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace lote::testing {

class FakeControlPlane {
 public:
  struct Task {
    int64_t id = 0;
    nlohmann::json items;
    int attempt = 1;
    std::string state = "pending";  // pending | leased | done | failed
    std::string lease;
  };
  struct ResultPost {
    int64_t id = 0;
    httplib::Headers headers;
    std::string body;
    std::string Header(const std::string& name) const {
      auto it = headers.find(name);
      return it == headers.end() ? "" : it->second;
    }
  };
  struct FailPost {
    int64_t id = 0;
    nlohmann::json body;
  };

  static constexpr char kToken[] = "test-token";

  FakeControlPlane(std::string job, nlohmann::json config)
      : job_(std::move(job)), config_(std::move(config)) {
    const std::string base = "/api/v1/jobs/" + job_;
    server_.Get(base + "/agent-config", [this](const httplib::Request& req, httplib::Response& res) {
      if (!Authorized(req, res)) return;
      std::lock_guard lock(mu_);
      ++config_calls_;
      res.set_content(config_.dump(), "application/json");
    });
    server_.Post(base + "/lease", [this](const httplib::Request& req, httplib::Response& res) {
      if (!Authorized(req, res)) return;
      Lease(req, res);
    });
    server_.Post(base + R"(/tasks/(\d+)/(result|fail))",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   if (!Authorized(req, res)) return;
                   Answer(req, res);
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  ~FakeControlPlane() {
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void AddTask(nlohmann::json items) {
    std::lock_guard lock(mu_);
    Task t;
    t.id = static_cast<int64_t>(tasks_.size()) + 1;
    t.items = std::move(items);
    tasks_.push_back(std::move(t));
  }
  // Answers the result or fail of these tasks with 409 (a stale lease).
  void ConflictOn(int64_t id) {
    std::lock_guard lock(mu_);
    conflicts_.insert(id);
  }
  // Answers every lease with 503 (the control plane is going away).
  void SetLeaseUnavailable(bool on) {
    std::lock_guard lock(mu_);
    lease_unavailable_ = on;
  }

  std::vector<ResultPost> results() const {
    std::lock_guard lock(mu_);
    return results_;
  }
  std::vector<FailPost> fails() const {
    std::lock_guard lock(mu_);
    return fails_;
  }
  std::vector<Task> tasks() const {
    std::lock_guard lock(mu_);
    return tasks_;
  }
  int lease_calls() const {
    std::lock_guard lock(mu_);
    return lease_calls_;
  }
  std::set<std::string> lease_workers() const {
    std::lock_guard lock(mu_);
    return lease_workers_;
  }

 private:
  static void Refuse(httplib::Response& res, int status, const std::string& code,
                     const std::string& message) {
    res.status = status;
    res.set_content(nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump(),
                    "application/json");
  }

  bool Authorized(const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") == std::string("Bearer ") + kToken) return true;
    Refuse(res, 401, "Unauthenticated", "bad token");
    return false;
  }

  void Lease(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu_);
    ++lease_calls_;
    if (lease_unavailable_) return Refuse(res, 503, "Unavailable", "shutting down");
    auto body = nlohmann::json::parse(req.body);
    lease_workers_.insert(body.at("worker").get<std::string>());
    if (body.at("max") != 1) return Refuse(res, 400, "InvalidArgument", "max must be 1 here");
    bool open = false;
    for (auto& t : tasks_) {
      if (t.state == "pending") {
        t.state = "leased";
        t.lease = "lease-" + std::to_string(t.id) + "-" + std::to_string(lease_calls_);
        nlohmann::json task = {
            {"id", t.id}, {"lease", t.lease}, {"attempt", t.attempt}, {"items", t.items}};
        res.set_content(
            nlohmann::json{{"state", "running"}, {"tasks", nlohmann::json::array({task})}}.dump(),
            "application/json");
        return;
      }
      open = open || t.state == "leased";
    }
    res.set_content(nlohmann::json{{"state", open ? "running" : "finished"},
                                   {"tasks", nlohmann::json::array()}}
                        .dump(),
                    "application/json");
  }

  void Answer(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu_);
    int64_t id = std::stoll(req.matches[1]);
    bool is_result = req.matches[2] == "result";
    if (id < 1 || id > static_cast<int64_t>(tasks_.size())) {
      return Refuse(res, 404, "NotFound", "no task " + std::to_string(id));
    }
    Task& t = tasks_[static_cast<size_t>(id - 1)];
    std::string lease = is_result ? req.get_header_value("X-Lote-Lease")
                                  : nlohmann::json::parse(req.body).value("lease", "");
    if (is_result) {
      results_.push_back({id, req.headers, req.body});
    } else {
      fails_.push_back({id, nlohmann::json::parse(req.body)});
    }
    if (t.state != "leased" || lease != t.lease || conflicts_.count(id) != 0) {
      t.state = "done";  // someone else finished it
      return Refuse(res, 409, "FailedPrecondition", "the lease is not current");
    }
    t.state = is_result ? "done" : "failed";
    nlohmann::json answer = {{"accepted", true}};
    if (!is_result) answer["status"] = "failed";
    res.set_content(answer.dump(), "application/json");
  }

  std::string job_;
  nlohmann::json config_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;

  mutable std::mutex mu_;
  std::vector<Task> tasks_;
  std::set<int64_t> conflicts_;
  bool lease_unavailable_ = false;
  int config_calls_ = 0;
  int lease_calls_ = 0;
  std::set<std::string> lease_workers_;
  std::vector<ResultPost> results_;
  std::vector<FailPost> fails_;
};

}  // namespace lote::testing
