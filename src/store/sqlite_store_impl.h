// Internal: the SQLite store class shared by sqlite_store.cc (resources) and
// sqlite_job_store.cc (jobs and their task queue). One connection, serialized
// by a recursive mutex, so Transaction() callbacks may call back in.
//
// Every statement's result code is checked: a prepare or step failure
// (a full disk, a corrupt or locked database) is an Error that names the
// operation, never a silent "no rows".
#pragma once

#include <sqlite3.h>

#include <mutex>
#include <string>
#include <string_view>

#include "store/job_store.h"
#include "store/store.h"

namespace lote::store {

// A prepared statement. A statement that failed to prepare answers every
// Step() with the prepare error, so callers check one result code.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql);
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  void Bind(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }
  bool IsNull(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int Step() { return rc_ == SQLITE_OK ? sqlite3_step(stmt_) : rc_; }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string Text(int col);
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

class SqliteStore final : public Store, public JobStore {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override { sqlite3_close_v2(db_); }

  Status Migrate();
  Status Exec(const char* sql);

  // Store
  Status Insert(Kind kind, std::string_view key, const nlohmann::json& doc) override;
  Result<nlohmann::json> Get(Kind kind, std::string_view key) override;
  Result<std::vector<nlohmann::json>> List(Kind kind, std::string_view key_prefix) override;
  Status Replace(Kind kind, std::string_view key, const nlohmann::json& doc) override;
  Status Delete(Kind kind, std::string_view key) override;
  Status Transaction(const std::function<Status()>& fn) override;

  // JobStore
  Status CreateJob(const nlohmann::json& spec) override;
  Result<JobRecord> GetJob(const std::string& name) override;
  Result<std::vector<JobRecord>> ListJobs(const std::string& endpoint) override;
  Result<bool> Transition(const std::string& job, const std::vector<JobStatus>& from, JobStatus to,
                          const JobUpdate& update = {}) override;
  Result<JobCounters> Counters(const std::string& job) override;
  Status DeleteTasks(const std::string& job) override;
  Result<bool> DeleteJob(const std::string& job, const std::vector<JobStatus>& ended) override;
  Status AddTasks(const std::string& job, const std::vector<nlohmann::json>& items) override;
  Result<std::vector<Task>> LeaseTasks(const std::string& job, int max, const std::string& worker,
                                       int64_t lease_ms, int64_t now_ms) override;
  Result<Task> FinishTask(const std::string& job, int64_t task, const TaskReport& report,
                          int max_retries) override;
  Result<std::vector<CommitOutcome>> FinishTasks(const std::string& job,
                                                 const std::vector<TaskCommit>& commits,
                                                 int max_retries) override;
  Result<int> ReleaseTasks(const std::string& job,
                           const std::vector<std::pair<int64_t, std::string>>& leases) override;
  Result<int> ExpireLeases(const std::string& job, int64_t now_ms, int max_retries,
                           const std::string& reason) override;
  Result<int> ExpireLeasesOf(const std::string& job, const std::string& worker_prefix,
                             int max_retries, const std::string& reason) override;
  Result<int> ReleaseLeases(const std::string& job) override;
  Result<int> ReleaseLeasesOf(const std::string& job, const std::string& worker_prefix) override;
  Result<StoppedTasks> StopUnfinished(const std::string& job, const std::string& reason) override;
  Result<int> RequeueDone(const std::string& job, const std::vector<int64_t>& tasks,
                          const std::string& reason) override;
  Result<std::vector<Task>> ListTasks(const std::string& job, int64_t after_id, int limit) override;
  Result<std::vector<Task>> ListFailedTasks(const std::string& job, int64_t after_id, int limit) override;
  Result<Task> GetTask(const std::string& job, int64_t task) override;

 private:
  // ListTasks filtered by an SQL condition on the tasks table.
  Result<std::vector<Task>> ListTasksWhere(const std::string& job, const char* where, int64_t after_id,
                                           int limit);
  Status CheckDone(int rc, const char* what);
  Error StoreError(const char* what);
  static Result<nlohmann::json> ParseDoc(const std::string& text);
  Result<Task> ReadTask(const std::string& job, int64_t id);
  Result<JobRecord> ReadJobRow(Stmt& s);  // a row of the job columns
  Status BumpCounters(const std::string& job, const std::string& set_sql);
  // Ends a leased attempt (under the mutex, inside a transaction).
  Result<Task> EndAttempt(const Task& current, const TaskReport& report, int max_retries);
  // Ends, as failed attempts, the leased tasks that `where` (SQL on tasks) selects.
  Result<int> ExpireWhere(const std::string& job, const std::string& where,
                          const std::function<void(Stmt&)>& bind, int max_retries,
                          const std::string& reason);

  sqlite3* db_;
  std::recursive_mutex mu_;
  int depth_ = 0;  // Transaction() nesting on the thread that holds mu_
};

}  // namespace lote::store
