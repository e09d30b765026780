// The job engine of the control plane: accepts invocations, plans them,
// starts agents through the compute backend, hands out mini-batches under
// leases, commits results exactly once, retries, enforces error_threshold,
// cancels, and assembles the output when a job ends.
//
// Threads: REST handlers call the public methods from many threads; they only
// read, record (invoke, results, failures) and request (cancel). One
// scheduler thread decides: it moves each job through its state machine
// (jobs/job_state.h, every change a compare-and-set in the store), supervises
// leases and agents, and hands the slow work (planning, downloads, output
// assembly, reports) to small pools, so one stalled URL or a large output
// never holds up the other jobs. No exception leaves any of these threads.
//
// Start() resumes the jobs a previous control plane left unfinished: their
// leases are released and only the mini-batches without committed results run
// again; a job that was Finalizing is finalized again (idempotently).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/home.h"
#include "common/lote_metrics.h"
#include "common/server_log.h"
#include "common/unique_fd.h"
#include "compute/agent_launcher.h"
#include "registry/registry.h"
#include "storage/beneath.h"
#include "storage/url_policy.h"
#include "store/job_store.h"

namespace lote::jobs {

struct JobManagerOptions {
  store::JobStore* store = nullptr;         // not owned
  registry::Registry* registry = nullptr;   // not owned
  compute::AgentLauncher* launcher = nullptr;  // not owned
  HomeLayout home;
  std::string base_url;
  // Issues the token a job's agents authenticate with (scoped to that job).
  std::function<std::string(const std::string& job)> agent_token;
  std::string python_runner;                // path of python/lote_runner.py
  std::string default_python = "python3";   // no-code Python models without an environment
  storage::UrlPolicy url_policy;            // hosts URL inputs may name (lote serve --allow/--deny-url-host)
  std::function<int64_t()> now_ms;          // clock; defaults to the system clock
  int tick_ms = 100;                        // scheduler period
  int max_agent_restarts = 3;               // per node, before the job fails
  int prepare_threads = 2;                  // jobs planned (and downloaded) at once
  int finalize_threads = 2;                 // outputs assembled at once
  LoteMetrics* metrics = nullptr;           // not owned; null: nothing is counted
  ServerLog* log = nullptr;                 // not owned; null: stderr
  // Ended jobs older than this (by their end time) are deleted as `lote job
  // delete` does (lote serve --retain-jobs-days); 0: kept forever.
  int64_t retain_jobs_ms = 0;
};

// How a leased mini-batch attempt ended (from the agent).
struct AttemptReport {
  std::string lease;
  std::string worker;
  bool ok = false;
  int64_t succeeded = 0;
  int64_t failed = 0;
  int64_t started_ms = 0;
  int64_t elapsed_ms = 0;
  std::string outcome;    // RUN_DONE, RUN_EXCEPTION, RUN_TIMEOUT, RUN_CRASH, …
  std::string error;
  std::string traceback;
};

// Bytes an agent fetches (a blob, an input item): `length` bytes of `fd`
// from `offset`.
struct FileSlice {
  UniqueFd fd;
  uint64_t offset = 0;
  uint64_t length = 0;
};

class JobManager {
 public:
  static Result<std::unique_ptr<JobManager>> Create(const JobManagerOptions& options);
  virtual ~JobManager() = default;

  virtual void Start() = 0;
  virtual void Stop() = 0;  // stops the scheduler and every agent

  // Users.
  virtual Result<nlohmann::json> Invoke(const std::string& endpoint, const nlohmann::json& body,
                                        const std::string& deployment_header) = 0;
  virtual Result<nlohmann::json> GetJob(const std::string& name) = 0;
  virtual Result<nlohmann::json> ListJobs(const std::string& endpoint) = 0;
  virtual Result<nlohmann::json> Cancel(const std::string& name) = 0;
  // Removes an ended job (Completed, Failed, Canceled): its record and its
  // folder (logs, results, staging). Its output location's files are never
  // touched. FailedPrecondition while it has not ended.
  virtual Status DeleteJob(const std::string& name) = 0;
  // The job's event log from byte offset: {"text", "next_offset", "status", "done"}.
  virtual Result<nlohmann::json> ReadLog(const std::string& name, int64_t offset) = 0;
  // What the home holds, per category, and the biggest jobs (jobs/disk_usage.h).
  virtual Result<nlohmann::json> DiskUsage() = 0;
  // What the scoring scripts printed (`lote job stream --user-logs`): the
  // files under logs/user/stdout/ with their sizes, {"files": [{"path",
  // "size"}], "status", "ended"}; and one of them from byte offset, at most
  // 1 MiB, whole lines while the job runs: {"text", "next_offset"}.
  // InvalidArgument for a path outside user/stdout/, NotFound for none.
  virtual Result<nlohmann::json> ListUserLogs(const std::string& name) = 0;
  virtual Result<nlohmann::json> ReadUserLog(const std::string& name, const std::string& rel, int64_t offset) = 0;
  // Files a user may download: {"output": [...], "logs": [...]}; and their paths.
  virtual Result<nlohmann::json> ListFiles(const std::string& name) = 0;
  virtual Result<std::filesystem::path> FilePath(const std::string& name, const std::string& rel) = 0;
  // The job's mini-batches with id > after, in id order, at most limit (for
  // the dashboard's charts and failed items): {"mini_batches": [{id, status,
  // attempts, started_ms, elapsed_ms, succeeded, failed, worker, outcome,
  // error, items: [{path, offset?, length?}…]}…], "next_after": last id}.
  virtual Result<nlohmann::json> ListMiniBatches(const std::string& name, int64_t after, int limit) = 0;
  // The job's failed items in mini-batches with id > after, from at most
  // limit mini-batches (docs/rest.md): {"failed_items": [{mini_batch,
  // attempt, file, row, column, outcome, error}…], "next_after", "more"}.
  // A row-level failure names its file, row and column where known; a
  // mini-batch that failed as a whole names its files, row and column null.
  virtual Result<nlohmann::json> ListFailedItems(const std::string& name, int64_t after, int limit) = 0;

  // Agents.
  virtual Result<nlohmann::json> AgentConfig(const std::string& job) = 0;
  virtual Result<nlohmann::json> Lease(const std::string& job, const std::string& worker, int max) = 0;
  // Where a results body is staged before CommitResults.
  virtual Result<std::filesystem::path> StagingPath(const std::string& job) = 0;
  // Commits a staged batch of results (jobs/result_batch.h) in one
  // transaction: {"accepted": [task, …], "dropped": [{"task", "reason"}, …]};
  // a result whose lease is not current is dropped, the others are kept.
  virtual Result<nlohmann::json> CommitResults(const std::string& job,
                                               const std::filesystem::path& staged) = 0;
  // Commits a batch a local agent wrote itself into the job's staging folder
  // (jobs/results_file.h): the file is checked and claimed, then committed as
  // CommitResults does. FailedPrecondition once the job ended (as
  // StagingPath); InvalidArgument for a job whose agents have remote access.
  virtual Result<nlohmann::json> CommitResultsFile(const std::string& job, const std::string& file,
                                                   uint64_t bytes) = 0;
  // Hands leased tasks back unstarted (body {"tasks": [{"id", "lease"}]}):
  // pending again, no attempt counted. {"released": n}.
  virtual Result<nlohmann::json> ReleaseTasks(const std::string& job,
                                              const nlohmann::json& body) = 0;
  virtual Result<nlohmann::json> FailAttempt(const std::string& job, int64_t task,
                                             const AttemptReport& report) = 0;

  // Remote agents (docs/agent-api.md; jobs/agent_access.h). The manifest of
  // the job's model, code and runner (artifacts/manifest.h).
  virtual Result<nlohmann::json> Artifacts(const std::string& job) = 0;
  // A file the manifest lists, by its sha256; NotFound for any other hash.
  virtual Result<FileSlice> OpenBlob(const std::string& job, const std::string& sha256) = 0;
  // Item `index` of a mini-batch leased under `lease` (its byte range, for a
  // range item; span K of its "spans" when span is given, for a Parquet
  // row-group item: jobs/planner_parquet.h), read beneath the job's input
  // folder. FailedPrecondition when the lease is not current or the file
  // changed since planning; NotFound naming the item (or span) when it is gone.
  virtual Result<FileSlice> OpenItem(const std::string& job, int64_t task, int64_t index,
                                     const std::string& lease, std::optional<int64_t> span) = 0;
  // Logs remote agents upload (jobs/node_logs.h): a file's size, and a write
  // at an offset returning the size after.
  virtual Result<uint64_t> NodeLogSize(const std::string& job, const std::string& rel) = 0;
  virtual Result<uint64_t> WriteNodeLog(const std::string& job, const std::string& rel, uint64_t offset,
                                        std::string_view data) = 0;
  // Where remote agents put the files their workers wrote under
  // AZUREML_BI_OUTPUT_PATH: the job's output folder, to write `rel` beneath
  // it. InvalidArgument when rel is the output file lote assembles (it would
  // block the assembly). Uploads never overwrite (server/file_transfer.h).
  virtual Result<storage::Beneath> NodeOutputFolder(const std::string& job, const std::string& rel) = 0;
  // The control plane could not store what an agent sent for the job (a full
  // or failing disk): the job fails at once with the error, rather than
  // after its leases expire.
  virtual void ReportStorageError(const std::string& job, const Error& error) = 0;

  // For /metrics: how many jobs are in each status, and how many agents
  // are live per compute type.
  virtual Result<std::map<std::string, int64_t>> JobsByStatus() = 0;
  virtual std::map<std::string, int64_t> AgentsByComputeType() = 0;
};

}  // namespace lote::jobs
