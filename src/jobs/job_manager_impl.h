// Internal: JobManager's implementation class, split over
//   job_service.cc    what users call: invoke, show, list, cancel, logs, files
//   agent_service.cc  what agents call: config, lease, results, release, fail
//   agent_transfer.cc what remote agents fetch and upload: artifacts, items, logs
//   scheduler.cc      the scheduler thread: the state machine, closing jobs
//   supervisor.cc     a Running job's leases, error threshold and agents
// The slow work runs in preparer.cc and finalizer.cc on the pools.
#pragma once

#include <condition_variable>
#include <map>
#include <set>
#include <mutex>
#include <optional>
#include <thread>

#include "jobs/early_assembly.h"
#include "jobs/finalizer.h"
#include "jobs/job_artifacts.h"
#include "jobs/job_files.h"
#include "jobs/job_manager.h"
#include "jobs/job_spec.h"
#include "jobs/planner.h"
#include "jobs/work_pool.h"

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
  Status DeleteJob(const std::string& name) override;
  // job_delete.cc: what deletes left behind when the server stopped.
  void RemoveDeletedFolders();
  Result<nlohmann::json> DiskUsage() override;
  Result<nlohmann::json> ListUserLogs(const std::string& name) override;
  Result<nlohmann::json> ReadUserLog(const std::string& name, const std::string& rel, int64_t offset) override;
  Result<nlohmann::json> ListFiles(const std::string& name) override;
  Result<std::filesystem::path> FilePath(const std::string& name, const std::string& rel) override;
  // job_mini_batches.cc
  Result<nlohmann::json> ListMiniBatches(const std::string& name, int64_t after, int limit) override;
  Result<nlohmann::json> ListFailedItems(const std::string& name, int64_t after, int limit) override;

  Result<nlohmann::json> AgentConfig(const std::string& job) override;
  Result<nlohmann::json> Lease(const std::string& job, const std::string& worker, int max) override;
  Result<std::filesystem::path> StagingPath(const std::string& job) override;
  Result<nlohmann::json> CommitResults(const std::string& job,
                                       const std::filesystem::path& staged) override;
  // agent_results_file.cc
  Result<nlohmann::json> CommitResultsFile(const std::string& job, const std::string& file,
                                           uint64_t bytes) override;
  Result<nlohmann::json> ReleaseTasks(const std::string& job, const nlohmann::json& body) override;
  Result<nlohmann::json> FailAttempt(const std::string& job, int64_t task,
                                     const AttemptReport& report) override;
  void ReportStorageError(const std::string& job, const Error& error) override;
  Result<std::map<std::string, int64_t>> JobsByStatus() override;
  std::map<std::string, int64_t> AgentsByComputeType() override;

  Result<nlohmann::json> Artifacts(const std::string& job) override;
  Result<FileSlice> OpenBlob(const std::string& job, const std::string& sha256) override;
  Result<FileSlice> OpenItem(const std::string& job, int64_t task, int64_t index, const std::string& lease,
                             std::optional<int64_t> span) override;
  Result<uint64_t> NodeLogSize(const std::string& job, const std::string& rel) override;
  Result<storage::Beneath> NodeOutputFolder(const std::string& job, const std::string& rel) override;
  Result<uint64_t> WriteNodeLog(const std::string& job, const std::string& rel, uint64_t offset,
                                std::string_view data) override;

 private:
  // What the scheduler keeps in memory about a job that has not ended. Only
  // the scheduler thread touches it.
  struct Active {
    std::vector<std::optional<compute::AgentHandle>> agents;  // by node
    std::vector<int> restarts;                                 // by node
    int64_t next_launch_ms = 0;  // restarts wait a little, so a crash loop is not a busy loop
    int64_t last_overview_ms = 0;
    std::shared_ptr<Work<PlanResult>> preparing;  // planning in flight
    std::shared_ptr<Work<Finalized>> closing;     // finalization or early close in flight
    std::shared_ptr<EarlyAssembly> early;         // the output assembled while it runs
    int64_t early_settled = -1;                   // settled mini-batches at the last pass
    std::vector<store::JobStatus> closing_from;   // the statuses `closing` ends
    int64_t retry_at_ms = 0;     // after a failed finalization: not before
    int failures = 0;            // consecutive failed finalizations (backoff)
    bool finished = false;       // terminal: dropped from the active set
  };

  JobDir DirOf(const std::string& job) const { return JobDir{options_.home.jobs() / job}; }
  // A line of the job's own log that the server's log carries too (status
  // changes, agents, leases, errors), as "job=<name> <line>".
  void Event(const std::string& job, const std::string& line) const;
  // A problem of the control plane itself, for the server's log.
  void Log(const std::string& line) const { LogTo(options_.log, LogLevel::kWarn, "scheduler", line); }
  // Whether a status change happened (Move's result); a store error is logged.
  bool Moved(const Result<bool>& r, const std::string& job, const char* what) const;
  int64_t Now() const { return options_.now_ms(); }
  // The job's spec, parsed once and kept while the process lives (specs are
  // immutable).
  Result<std::shared_ptr<const JobSpec>> SpecOf(const store::JobRecord& rec);
  void Wake();
  std::optional<std::string> TakeStorageError(const std::string& job);
  // agent_transfer.cc: the job's artifacts, loaded from its folder (or
  // hashed, for a job planned before they were) once, then kept until the
  // job ends (ForgetArtifacts).
  Result<std::shared_ptr<const JobArtifacts>> ArtifactsOf(const JobSpec& spec);
  void ForgetArtifacts(const std::string& job);

  // scheduler.cc
  void Loop();
  void Tick();
  void Step(const std::string& name, Active& active);
  void StartPreparing(const JobSpec& spec, Active& active);
  void AfterPreparing(const JobSpec& spec, Active& active);
  void StartFinalizing(const store::JobRecord& rec, const JobSpec& spec, Active& active);
  void AfterClosing(const std::string& name, Active& active);
  // A pass of the output's early assembly (early_assembly.h) on the
  // finalization pool, when mini-batches settled since the last one.
  void AssembleEarly(const store::JobRecord& rec, const JobSpec& spec, int64_t settled, Active& active);
  // Stops a job early: agents stopped, leases ended, pending mini-batches not
  // run; its reports are then written on a pool and the status recorded.
  void Close(const std::string& name, std::vector<store::JobStatus> from, store::JobStatus to,
             const std::string& why, Active& active);

  // job_retention.cc: an ended job's results, staging and uploaded input
  // given back on the finalization pool; at a start, what a crash left; the
  // --retain-jobs-days sweep, started from the scheduler's ticks.
  void ReclaimEnded(const std::string& name);
  void ReclaimUpload(const store::JobRecord& rec);
  void ReclaimAtStart(const std::vector<store::JobRecord>& jobs);
  void MaybeSweepRetention();

  // supervisor.cc
  void Supervise(const store::JobRecord& rec, const JobSpec& spec, Active& active);
  void LaunchAgents(const JobSpec& spec, Active& active);
  void StopAgents(const std::string& name, Active& active);
  // Records where each agent of the job runs, for GetJob (any thread).
  void PublishAgents(const std::string& name, const Active& active);

  JobManagerOptions options_;
  std::mutex specs_mu_;
  std::map<std::string, std::shared_ptr<const JobSpec>> specs_;
  std::mutex artifacts_load_mu_;  // held while a job's artifacts are loaded or hashed
  std::mutex artifacts_mu_;       // guards artifacts_ (never held while hashing)
  std::map<std::string, std::shared_ptr<const JobArtifacts>> artifacts_;
  std::mutex node_logs_mu_;  // one upload written at a time
  std::mutex storage_mu_;
  std::map<std::string, std::string> storage_errors_;  // job -> the first storage error
  std::mutex agents_mu_;
  std::map<std::string, nlohmann::json> agents_;  // job -> its agents as last published
  // job -> (compute type, live agents), for /metrics.
  std::map<std::string, std::pair<std::string, int64_t>> live_agents_;
  std::mutex active_mu_;
  std::map<std::string, Active> active_;
  std::set<std::string> stepping_;  // moved out of active_ while Tick steps them
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool woken_ = false;
  bool stopping_ = false;
  std::unique_ptr<WorkPool> prepare_pool_;
  std::unique_ptr<WorkPool> finalize_pool_;
  // Early assembly passes, one at a time for all jobs: never queued in front
  // of a job's finalization or close.
  std::unique_ptr<WorkPool> assemble_pool_;
  int64_t next_sweep_ms_ = 0;             // scheduler thread only
  std::shared_ptr<Work<int>> sweeping_;   // the retention sweep in flight
  std::thread thread_;
};

}  // namespace lote::jobs
