// The agent's side of docs/agent-api.md: agent-config, lease, results,
// release, fail; and for remote access the artifact manifest, blobs, leased
// items and node logs.
//
// Each call retries while the control plane cannot be reached (no connection,
// or 502/503/504), with backoff from 100 ms to 2 s, for up to
// unreachable_timeout_s; then it fails with ErrorCode::kUnavailable. A
// download cut off mid-body is such a failure too: it starts over, after the
// sink's Restart(), until the same window closes. Other
// answers come back as the lote::Error the server raised (a 409 is
// kFailedPrecondition: the lease is no longer current).
//
// Thread-compatible: one thread uses a client (each slot has its own), except
// Abort(), which any thread may call to end a request in flight; the agent
// state does so on Stop(). When the state is stopping, calls fail at once
// with kUnavailable "the agent is stopping".
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::agent {

class AgentState;
class DownloadSink;

struct ControlPlaneOptions {
  std::string server_url;  // "http://127.0.0.1:8070"
  std::string token;
  std::string job;
  int unreachable_timeout_s = 30;
  AgentState* state = nullptr;  // optional; not owned
  // The job's staging folder, when the agent shares the server's disk
  // (AgentConfig::results_dir): PostResults writes its batches there and
  // posts only their names. Empty: the rows go in the request body.
  std::string results_dir;
};

struct LeasedTask {
  int64_t id = 0;
  std::string lease;
  int attempt = 1;
  nlohmann::json items = nlohmann::json::array();
};

struct LeaseResponse {
  bool finished = false;  // state "finished": no more work for this job
  std::vector<LeasedTask> tasks;
  int64_t lease_ms = 0;  // how long the leases last (0: not said)
};

struct TaskResult {
  int64_t task_id = 0;
  std::string lease, worker;
  int64_t succeeded = 0, failed = 0;
  int64_t started_ms = 0, elapsed_ms = 0;
  std::optional<std::string> header;  // CSV header line, when the rows are CSV
  std::string payload;                // the rows
  // Row-level failures of a result that otherwise succeeded, as the server
  // keeps them (jobs/result_batch.h): [{"item", "error", "row"?, "column"?}],
  // at most runtime::kMaxReportedItemErrors.
  nlohmann::json item_errors = nlohmann::json::array();
};

// The control plane's answer to a batch of results: each task is accepted, or
// dropped because its lease is no longer current (someone else owns it now).
struct ResultsAnswer {
  std::vector<int64_t> accepted;
  std::vector<std::pair<int64_t, std::string>> dropped;  // task, reason
  bool by_file = false;  // the rows went by file (results_dir), not in the body
  // Why the rows went in the body although results_dir is set (the file
  // could not be written, or the control plane cannot see it); the client
  // then sends every later batch in the body. Empty otherwise.
  std::string fell_back;
};

struct TaskFailure {
  int64_t task_id = 0;
  std::string lease, worker;
  std::string outcome;  // RUN_EXCEPTION | RUN_TIMEOUT | RUN_CRASH | INIT_FAILED
  std::string error, traceback;
  int64_t started_ms = 0, elapsed_ms = 0;
};

class ControlPlaneClient {
 public:
  explicit ControlPlaneClient(ControlPlaneOptions options);
  ~ControlPlaneClient();

  ControlPlaneClient(const ControlPlaneClient&) = delete;
  ControlPlaneClient& operator=(const ControlPlaneClient&) = delete;

  Result<nlohmann::json> GetAgentConfig();
  Result<LeaseResponse> Lease(const std::string& worker, int max = 1);
  // Reports finished mini-batches in one request (the rows streamed from
  // memory, not copied). All from one worker. With results_dir, the batch is
  // written there and only its name posted (POST …/tasks/results-file); when
  // the file cannot be written, or the control plane answers that it cannot
  // see it (while the file is still there, so it did not take it), the rows
  // go in the body instead; so does a batch for which the folder's disk has
  // little room left (less than twice its size and 256 MiB more), so that on
  // a full disk the control plane refuses and reports as it does for bodies.
  // A retry after a lost answer never commits twice:
  // the server takes a file once (it renames it), and the store drops a
  // result whose task is no longer leased.
  Result<ResultsAnswer> PostResults(const std::string& worker, const std::vector<TaskResult>& results);
  // Hands leased tasks back unstarted: pending again, no attempt counted.
  Status ReleaseTasks(const std::string& worker, const std::vector<LeasedTask>& tasks);
  // Returns the task's status after the failure: "pending" (it will be
  // retried) or "failed".
  Result<std::string> PostFail(const TaskFailure& failure);

  // Remote access. The manifest of the job's model, code and runner.
  Result<nlohmann::json> GetArtifacts();
  // A file of the manifest by its sha256, into sink (the caller checks it).
  Status DownloadBlob(const std::string& sha256, DownloadSink& sink);
  // Item `index` of a leased mini-batch (its byte range, for a range item;
  // its span `span`, when given, for a Parquet row-group item).
  Status DownloadItem(int64_t task, size_t index, std::optional<size_t> span, const std::string& lease,
                      DownloadSink& sink);
  // A node log's size on the control plane (0 when it has none), and a write
  // of bytes at an offset of it; both return the size.
  Result<uint64_t> NodeLogSize(const std::string& rel);
  Result<uint64_t> WriteNodeLog(const std::string& rel, uint64_t offset, std::string_view data);
  // Uploads a file the workers wrote under AZUREML_BI_OUTPUT_PATH into the
  // job's output folder as `rel`; AlreadyExists when the folder has one.
  Status PutNodeOutput(const std::string& rel, const std::filesystem::path& local);

  // Thread-safe: ends the request in flight, if any.
  void Abort();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lote::agent
