// An in-process fake of the control plane's agent API (docs/agent-api.md):
// agent-config, lease, results, release, fail, on 127.0.0.1 and a free port.
// Tasks are handed out in order, one per lease call; a failed task is not
// retried. Records every answer for the test to check (each result of a
// batch as its own ResultPost, its metadata as pseudo-headers X-Lote-Lease,
// X-Lote-Succeeded, …). Thread-safe.
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
    nlohmann::json item_errors;  // as posted; null when absent
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
    server_.Post(base + "/tasks/results", [this](const httplib::Request& req, httplib::Response& res) {
      if (!Authorized(req, res)) return;
      Results(req, res);
    });
    server_.Post(base + "/tasks/release", [this](const httplib::Request& req, httplib::Response& res) {
      if (!Authorized(req, res)) return;
      std::lock_guard lock(mu_);
      auto body = nlohmann::json::parse(req.body);
      for (const auto& t : body.at("tasks")) {
        Task& task = tasks_.at(static_cast<size_t>(t.at("id").get<int64_t>() - 1));
        if (task.state == "leased" && task.lease == t.at("lease")) task.state = "pending";
        ++released_;
      }
      res.set_content(R"({"released": 1})", "application/json");
    });
    server_.Post(base + R"(/tasks/(\d+)/fail)", [this](const httplib::Request& req, httplib::Response& res) {
      if (!Authorized(req, res)) return;
      Fail(req, res);
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
  // Hands out up to n pending tasks per lease call (capped by the call's max),
  // with this lease_ms in the answer (0: not sent).
  void SetLeasing(int n, int64_t lease_ms) {
    std::lock_guard lock(mu_);
    per_lease_ = n;
    lease_ms_ = lease_ms;
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
  // The largest max a lease call asked for; how many tasks were handed back.
  int max_asked() const {
    std::lock_guard lock(mu_);
    return max_asked_;
  }
  int released() const {
    std::lock_guard lock(mu_);
    return released_;
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
    if (!body.at("max").is_number_integer() || body.at("max") < 1) {
      return Refuse(res, 400, "InvalidArgument", "max must be a positive integer");
    }
    max_asked_ = std::max(max_asked_, body.at("max").get<int>());
    const int n = std::min(per_lease_, body.at("max").get<int>());
    bool open = false;
    nlohmann::json handed = nlohmann::json::array();
    for (auto& t : tasks_) {
      if (t.state == "pending" && static_cast<int>(handed.size()) < n) {
        t.state = "leased";
        t.lease = "lease-" + std::to_string(t.id) + "-" + std::to_string(lease_calls_);
        handed.push_back({{"id", t.id}, {"lease", t.lease}, {"attempt", t.attempt}, {"items", t.items}});
      }
      open = open || t.state == "leased" || t.state == "pending";
    }
    nlohmann::json answer = {{"state", open ? "running" : "finished"}, {"tasks", handed}};
    if (lease_ms_ > 0) answer["lease_ms"] = lease_ms_;
    res.set_content(answer.dump(), "application/json");
  }

  // The lease is current and not marked as a conflict; else the task is
  // marked done (someone else finished it).
  bool Current(int64_t id, const std::string& lease) {
    Task& t = tasks_[static_cast<size_t>(id - 1)];
    if (t.state != "leased" || lease != t.lease || conflicts_.count(id) != 0) {
      t.state = "done";
      return false;
    }
    return true;
  }

  void Results(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu_);
    size_t nl = req.body.find('\n');
    auto meta = nlohmann::json::parse(req.body.substr(0, nl));
    size_t offset = nl + 1;
    nlohmann::json answer = {{"accepted", nlohmann::json::array()}, {"dropped", nlohmann::json::array()}};
    for (const auto& r : meta.at("results")) {
      int64_t id = r.at("task");
      size_t bytes = r.at("bytes");
      ResultPost post{id, {}, req.body.substr(offset, bytes), {}};
      offset += bytes;
      post.headers.emplace("X-Lote-Lease", r.at("lease").get<std::string>());
      post.headers.emplace("X-Lote-Worker", meta.at("worker").get<std::string>());
      post.headers.emplace("X-Lote-Succeeded", std::to_string(r.at("succeeded").get<int64_t>()));
      post.headers.emplace("X-Lote-Failed", std::to_string(r.at("failed").get<int64_t>()));
      post.headers.emplace("X-Lote-Started-Ms", std::to_string(r.at("started_ms").get<int64_t>()));
      post.headers.emplace("X-Lote-Elapsed-Ms", std::to_string(r.at("elapsed_ms").get<int64_t>()));
      if (r.at("header").is_string()) post.headers.emplace("X-Lote-Header", r.at("header").get<std::string>());
      if (r.contains("item_errors")) post.item_errors = r.at("item_errors");
      results_.push_back(post);
      if (id < 1 || id > static_cast<int64_t>(tasks_.size()) || !Current(id, r.at("lease"))) {
        answer["dropped"].push_back({{"task", id}, {"reason", "the lease is not current"}});
        continue;
      }
      tasks_[static_cast<size_t>(id - 1)].state = "done";
      answer["accepted"].push_back(id);
    }
    res.set_content(answer.dump(), "application/json");
  }

  void Fail(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu_);
    int64_t id = std::stoll(req.matches[1]);
    if (id < 1 || id > static_cast<int64_t>(tasks_.size())) {
      return Refuse(res, 404, "NotFound", "no task " + std::to_string(id));
    }
    auto body = nlohmann::json::parse(req.body);
    fails_.push_back({id, body});
    if (!Current(id, body.value("lease", ""))) {
      return Refuse(res, 409, "FailedPrecondition", "the lease is not current");
    }
    tasks_[static_cast<size_t>(id - 1)].state = "failed";
    res.set_content(R"({"accepted": true, "status": "failed"})", "application/json");
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
  int max_asked_ = 0;
  int per_lease_ = 1;
  int64_t lease_ms_ = 0;
  int released_ = 0;
  std::set<std::string> lease_workers_;
  std::vector<ResultPost> results_;
  std::vector<FailPost> fails_;
};

}  // namespace lote::testing
