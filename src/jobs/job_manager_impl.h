// Internal: JobManager's implementation class, split over job_manager.cc
// (requests from users and agents) and job_scheduler.cc (the state machine).
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "jobs/job_files.h"
#include "jobs/job_manager.h"

namespace lote::jobs {

class JobManagerImpl final : public JobManager {
 public:
  explicit JobManagerImpl(JobManagerOptions o);
  ~JobManagerImpl() override { Stop(); }

  void Start() override;
  void Stop() override;

  Result<nlohmann::json> Invoke(const std::string& endpoint, const nlohmann::json& body,
                                const std::string& deployment_header) override;
  Result<nlohmann::json> GetJob(const std::string& name) override;
  Result<nlohmann::json> ListJobs(const std::string& endpoint) override;
  Result<nlohmann::json> Cancel(const std::string& name) override;
  Result<nlohmann::json> ReadLog(const std::string& name, int64_t offset) override;
  Result<nlohmann::json> ListFiles(const std::string& name) override;
  Result<std::filesystem::path> FilePath(const std::string& name, const std::string& rel) override;

  Result<nlohmann::json> AgentConfig(const std::string& job) override;
  Result<nlohmann::json> Lease(const std::string& job, const std::string& worker, int max) override;
  Result<std::filesystem::path> StagingPath(const std::string& job) override;
  Result<nlohmann::json> CommitResults(const std::string& job,
                                       const std::filesystem::path& staged) override;
  Result<nlohmann::json> ReleaseTasks(const std::string& job, const nlohmann::json& body) override;
  Result<nlohmann::json> FailAttempt(const std::string& job, int64_t task,
                                     const AttemptReport& report) override;

 private:
  // In-memory companion of a job that is not finished.
  struct Active {
    std::vector<int> agents;    // launcher handles, by node; -1 = not running
    std::vector<int> restarts;  // by node
    int64_t next_launch_ms = 0;  // restarts wait a little, so a crash loop is not a busy loop
    int64_t last_overview_ms = 0;
    bool finished = false;      // terminal: dropped from the active set
  };

  JobDir DirOf(const std::string& job) const { return JobDir{options_.home.jobs() / job}; }
  nlohmann::json View(const nlohmann::json& job, const store::JobCounters& c) const;
  Status SetStatus(nlohmann::json& job, const std::string& status, const std::string& error = "");
  void Wake();

  // The scheduler (job_scheduler.cc).
  void Loop();
  void Tick();
  void Step(const std::string& name, Active& active);
  void Prepare(nlohmann::json& job, Active& active);
  void Supervise(nlohmann::json& job, Active& active);
  void Finalize(nlohmann::json& job, Active& active);
  void EndEarly(nlohmann::json& job, Active& active, const std::string& status, const std::string& why);
  void LaunchAgents(const nlohmann::json& job, Active& active);
  void StopAgents(Active& active);

  JobManagerOptions options_;
  std::mutex tasks_mu_;  // serializes task transitions (commit vs. expiry)
  std::mutex active_mu_;
  std::map<std::string, Active> active_;
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lote::jobs
