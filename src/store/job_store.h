// The durable state of batch jobs: one row per job and one per mini-batch
// (task). The task queue lives here, so a restarted control plane continues
// from what was committed.
//
// A job row holds the job's immutable spec (the JSON document written at
// invoke) apart from its mutable state (status, error, times, output), and
// its progress counters. The status only moves by Transition(), a
// compare-and-set: "to `to` if the status is one of `from`", so a cancel is
// never lost to a concurrent writer and a terminal status is never
// overwritten.
//
// A task moves pending -> leased -> done | failed. A job that stops early
// ends the rest: leased -> canceled, pending -> not_run (neither is a
// failure: nothing was wrong with them). Leasing hands a task to an
// agent under a fresh lease id with an expiry; only the holder of the current
// lease may complete or fail it, so a late answer from a dead or replaced
// agent is refused (this is what keeps every item exactly once in the output).
//
// Thread-safe; each call is one transaction, and every storage error comes
// back as an Error (never as "no more rows").
#pragma once

#include <cstdint>
#include <vector>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::store {

// NotStarted → Preparing → Running → Finalizing → Completed | Failed, and
// CancelRequested → Canceled from any state before Finalizing
// (jobs/job_state.h holds the allowed transitions).
enum class JobStatus {
  kNotStarted,
  kPreparing,
  kRunning,
  kFinalizing,
  kCompleted,
  kFailed,
  kCancelRequested,
  kCanceled,
};

std::string_view JobStatusName(JobStatus status);  // "Running", as users see it
std::optional<JobStatus> ParseJobStatus(std::string_view name);
bool IsTerminal(JobStatus status);  // Completed, Failed, Canceled

enum class TaskStatus { kPending, kLeased, kDone, kFailed, kCanceled, kNotRun };

std::string_view TaskStatusName(TaskStatus status);  // "pending", …

struct JobCounters {
  int64_t tasks_total = 0;
  int64_t tasks_done = 0;
  int64_t tasks_failed = 0;
  int64_t tasks_retried = 0;  // attempts that failed and were queued again
  int64_t tasks_running = 0;
  int64_t items_succeeded = 0;
  int64_t items_failed = 0;
  // Of a job that stopped early (canceled, or failed before the end): the
  // mini-batches that were running then, and those never started. Not
  // counted in tasks_failed, their items not in items_failed.
  int64_t tasks_canceled = 0;
  int64_t tasks_not_run = 0;
};

// What changes while a job runs.
struct JobState {
  JobStatus status = JobStatus::kNotStarted;
  std::string error;        // why it failed or stopped; "" otherwise
  int64_t started_ms = 0;   // when it went Running; 0 before
  int64_t ended_ms = 0;     // when it reached a terminal status; 0 before
  int64_t output_rows = -1; // rows in the output file; -1 while none is written
  // The CSV header of the job's output: fixed by the first mini-batch
  // committed with results ("" when its rows have none); nullopt before.
  std::optional<std::string> output_header;
};

struct JobRecord {
  nlohmann::json spec;  // immutable: what was invoked (name, endpoint, input, output, settings, runtime)
  JobState state;
  JobCounters counters;
  std::string name() const { return spec.value("name", ""); }
};

// Fields a transition sets together with the status; unset ones are kept.
struct JobUpdate {
  std::optional<std::string> error;
  std::optional<int64_t> started_ms;
  std::optional<int64_t> ended_ms;
  std::optional<int64_t> output_rows;
};

struct Task {
  std::string job;
  int64_t id = 0;
  TaskStatus status = TaskStatus::kPending;
  int attempts = 0;
  std::string lease;
  int64_t lease_expires_ms = 0;
  nlohmann::json items;  // [{"path": …}, …]
  int64_t succeeded = 0;
  int64_t failed = 0;
  std::string worker;  // "node0/process001" of the last attempt
  int64_t started_ms = 0;
  int64_t elapsed_ms = 0;
  std::string error;  // last attempt's error
  std::string outcome;  // RUN_DONE | RUN_EXCEPTION | RUN_TIMEOUT | RUN_CRASH …
  // Where a done task's rows are: `part_length` bytes at `part_offset` of the
  // file `part` (a name in the job's results folder; empty: the legacy
  // one-file-per-task layout, the whole file), and its CSV header ("": none).
  std::string part;
  int64_t part_offset = 0;
  int64_t part_length = -1;
  std::string header;
  // A done task's row-level failures, from the attempt that committed it
  // (replaced, never appended: a retry cannot list them twice):
  // [{"item", "error", "row"?, "column"?}].
  nlohmann::json item_errors = nlohmann::json::array();
};

// How a leased task ended, as the agent reports it.
struct TaskReport {
  std::string lease;
  bool ok = false;
  int64_t succeeded = 0;
  int64_t failed = 0;
  std::string worker;
  int64_t started_ms = 0;
  int64_t elapsed_ms = 0;
  std::string error;
  std::string outcome;
  // ok: where the rows were stored and their header (see Task).
  std::string part;
  int64_t part_offset = 0;
  int64_t part_length = -1;
  std::string header;
  nlohmann::json item_errors = nlohmann::json::array();  // ok: as Task's
};

// What StopUnfinished did.
struct StoppedTasks {
  int64_t canceled = 0;
  int64_t not_run = 0;
};

// One report in a batch: the task it is for.
struct TaskCommit {
  int64_t task = 0;
  TaskReport report;
};

// What became of one TaskCommit.
enum class CommitOutcome {
  kAccepted,        // recorded
  kStaleLease,      // the lease is not current: dropped
  kHeaderMismatch,  // rows under another header than the output's: the task failed
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // spec: the job document; must hold string "name" and "endpoint". The job
  // starts NotStarted. AlreadyExists when the name is taken.
  virtual Status CreateJob(const nlohmann::json& spec) = 0;
  virtual Result<JobRecord> GetJob(const std::string& name) = 0;
  // Newest first; endpoint "" for all.
  virtual Result<std::vector<JobRecord>> ListJobs(const std::string& endpoint) = 0;
  // Compare-and-set: moves the job to `to` (with `update`'s fields) only if
  // its status is one of `from`. true when it moved; false when the status
  // was another (nothing changed); NotFound when there is no such job.
  virtual Result<bool> Transition(const std::string& job, const std::vector<JobStatus>& from,
                                  JobStatus to, const JobUpdate& update = {}) = 0;
  virtual Result<JobCounters> Counters(const std::string& job) = 0;

  // Drops every task of the job (planning starts over).
  virtual Status DeleteTasks(const std::string& job) = 0;
  // Removes a job and its tasks, compare-and-set on its status: only when
  // the status is one of `ended`. true when it was removed; false when its
  // status is another (nothing changed); NotFound when there is none.
  virtual Result<bool> DeleteJob(const std::string& job, const std::vector<JobStatus>& ended) = 0;
  // Appends tasks with consecutive ids starting after the last one.
  virtual Status AddTasks(const std::string& job, const std::vector<nlohmann::json>& items) = 0;
  // Leases up to max pending tasks, lowest id first.
  virtual Result<std::vector<Task>> LeaseTasks(const std::string& job, int max,
                                               const std::string& worker, int64_t lease_ms,
                                               int64_t now_ms) = 0;
  // Records the outcome of a leased attempt. A failed attempt goes back to
  // pending while attempts <= max_retries, else the task fails. Returns the
  // task as it is now. FailedPrecondition when the lease is not current.
  virtual Result<Task> FinishTask(const std::string& job, int64_t task, const TaskReport& report,
                                  int max_retries) = 0;
  // Records several reports in one transaction; element i tells what became
  // of commits[i]. A successful report whose header differs from the job's
  // output header (the first committed one fixes it) fails its task for good:
  // its rows cannot go into one CSV with the others.
  virtual Result<std::vector<CommitOutcome>> FinishTasks(const std::string& job,
                                                         const std::vector<TaskCommit>& commits,
                                                         int max_retries) = 0;
  // Returns leased tasks to pending without counting an attempt (an agent
  // hands back work it will not start); only where the lease is current.
  // Returns how many were released.
  virtual Result<int> ReleaseTasks(const std::string& job,
                                   const std::vector<std::pair<int64_t, std::string>>& leases) = 0;
  // Leases past their expiry (or all leases, with now_ms < 0) are ended as
  // failed attempts ("lease expired"); returns how many.
  virtual Result<int> ExpireLeases(const std::string& job, int64_t now_ms, int max_retries,
                                   const std::string& reason) = 0;
  // Ends the leases held by workers whose name starts with worker_prefix
  // ("node0/": an agent that died) as failed attempts; returns how many.
  virtual Result<int> ExpireLeasesOf(const std::string& job, const std::string& worker_prefix,
                                     int max_retries, const std::string& reason) = 0;
  // Returns every leased task to pending without counting an attempt (the
  // control plane restarted; the work was not the task's fault).
  virtual Result<int> ReleaseLeases(const std::string& job) = 0;
  // The same for the leases of workers whose name starts with worker_prefix
  // ("node0/": an agent its cluster lost, preempted or canceled).
  virtual Result<int> ReleaseLeasesOf(const std::string& job, const std::string& worker_prefix) = 0;
  // The job stopped early: its leased tasks become canceled (their leases
  // end, so late results are refused) and its pending ones not_run, both
  // with `reason` as their error; counted in tasks_canceled and
  // tasks_not_run, never as failed.
  // Returns how many of each.
  virtual Result<StoppedTasks> StopUnfinished(const std::string& job, const std::string& reason) = 0;
  // Puts done tasks back to pending (their committed rows were lost, e.g. a
  // results file vanished): their items are counted again when they rerun.
  // Returns how many.
  virtual Result<int> RequeueDone(const std::string& job, const std::vector<int64_t>& tasks,
                                  const std::string& reason) = 0;
  // Tasks with id > after_id in id order, at most limit.
  virtual Result<std::vector<Task>> ListTasks(const std::string& job, int64_t after_id,
                                              int limit) = 0;
  // Like ListTasks, but only the tasks that failed, or that are done with
  // item errors: what the dashboard lists as failed items.
  virtual Result<std::vector<Task>> ListFailedTasks(const std::string& job, int64_t after_id,
                                                    int limit) = 0;
  virtual Result<Task> GetTask(const std::string& job, int64_t task) = 0;
};

}  // namespace lote::store
