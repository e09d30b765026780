// JobStore on SQLite: jobs keep their state and counters in columns updated
// in the same transaction as the task rows, so progress and completion checks
// are O(1), and a status change is one conditional UPDATE.
#include "common/util.h"
#include "store/sqlite_store_impl.h"

namespace lote::store {

namespace {

constexpr const char* kJobColumns =
    "doc, status, error, started_ms, ended_ms, output_rows, output_header, tasks_total, "
    "tasks_done, tasks_failed, tasks_retried, tasks_running, items_succeeded, items_failed, tasks_canceled, "
    "tasks_not_run";

constexpr const char* kTaskColumns =
    "job, id, status, attempts, lease, lease_expires, items, succeeded, failed, worker, "
    "started_ms, elapsed_ms, error, outcome, part, part_offset, part_length, header, item_errors";

constexpr std::pair<JobStatus, std::string_view> kJobStatusNames[] = {
    {JobStatus::kNotStarted, "NotStarted"},   {JobStatus::kPreparing, "Preparing"},
    {JobStatus::kRunning, "Running"},         {JobStatus::kFinalizing, "Finalizing"},
    {JobStatus::kCompleted, "Completed"},     {JobStatus::kFailed, "Failed"},
    {JobStatus::kCancelRequested, "CancelRequested"}, {JobStatus::kCanceled, "Canceled"},
};

constexpr std::pair<TaskStatus, std::string_view> kTaskStatusNames[] = {
    {TaskStatus::kPending, "pending"},
    {TaskStatus::kLeased, "leased"},
    {TaskStatus::kDone, "done"},
    {TaskStatus::kFailed, "failed"},
    {TaskStatus::kCanceled, "canceled"},
    {TaskStatus::kNotRun, "not_run"},
};

std::optional<TaskStatus> ParseTaskStatus(std::string_view name) {
  for (auto [s, n] : kTaskStatusNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

// JSON text for a column. Text that is not UTF-8 (a file name from a
// listing) makes nlohmann throw; that is an error of this call, not a crash.
Result<std::string> DumpJson(const nlohmann::json& j, std::string_view what) {
  try {
    return j.dump();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string(what) + " cannot be stored: " + e.what());
  }
}

Result<Task> RowToTask(Stmt& s) {
  Task t;
  t.job = s.Text(0);
  t.id = s.Int(1);
  std::string status = s.Text(2);
  auto parsed = ParseTaskStatus(status);
  if (!parsed) {
    return Internal("metadata store: mini-batch " + std::to_string(t.id) + " of job '" + t.job +
                    "' has an unknown status '" + status + "'");
  }
  t.status = *parsed;
  t.attempts = static_cast<int>(s.Int(3));
  t.lease = s.Text(4);
  t.lease_expires_ms = s.Int(5);
  t.items = nlohmann::json::parse(s.Text(6), nullptr, false);
  if (t.items.is_discarded()) {
    return Internal("metadata store: mini-batch " + std::to_string(t.id) + " of job '" + t.job +
                    "' has corrupt items");
  }
  t.succeeded = s.Int(7);
  t.failed = s.Int(8);
  t.worker = s.Text(9);
  t.started_ms = s.Int(10);
  t.elapsed_ms = s.Int(11);
  t.error = s.Text(12);
  t.outcome = s.Text(13);
  t.part = s.Text(14);
  t.part_offset = s.Int(15);
  t.part_length = s.Int(16);
  t.header = s.Text(17);
  t.item_errors = nlohmann::json::parse(s.Text(18), nullptr, false);
  if (!t.item_errors.is_array()) {
    return Internal("metadata store: mini-batch " + std::to_string(t.id) + " of job '" + t.job +
                    "' has corrupt item errors");
  }
  return t;
}

int64_t ItemCount(const Task& t) { return t.items.is_array() ? static_cast<int64_t>(t.items.size()) : 0; }

}  // namespace

std::string_view JobStatusName(JobStatus status) {
  for (auto [s, n] : kJobStatusNames) {
    if (s == status) return n;
  }
  return "Unknown";
}

std::optional<JobStatus> ParseJobStatus(std::string_view name) {
  for (auto [s, n] : kJobStatusNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

bool IsTerminal(JobStatus status) {
  return status == JobStatus::kCompleted || status == JobStatus::kFailed || status == JobStatus::kCanceled;
}

std::string_view TaskStatusName(TaskStatus status) {
  for (auto [s, n] : kTaskStatusNames) {
    if (s == status) return n;
  }
  return "unknown";
}

Result<JobRecord> SqliteStore::ReadJobRow(Stmt& s) {
  JobRecord r;
  LOTE_ASSIGN_OR_RETURN(r.spec, ParseDoc(s.Text(0)));
  std::string status = s.Text(1);
  auto parsed = ParseJobStatus(status);
  if (!parsed) return Internal("metadata store: job has an unknown status '" + status + "'");
  r.state.status = *parsed;
  r.state.error = s.Text(2);
  r.state.started_ms = s.Int(3);
  r.state.ended_ms = s.Int(4);
  r.state.output_rows = s.Int(5);
  if (!s.IsNull(6)) r.state.output_header = s.Text(6);
  r.counters = JobCounters{s.Int(7), s.Int(8), s.Int(9), s.Int(10), s.Int(11), s.Int(12), s.Int(13), s.Int(14), s.Int(15)};
  return r;
}

Status SqliteStore::CreateJob(const nlohmann::json& spec) {
  if (!spec.is_object() || !spec.contains("name") || !spec["name"].is_string() ||
      !spec.contains("endpoint") || !spec["endpoint"].is_string()) {
    return InvalidArgument("a job needs a string name and endpoint");
  }
  nlohmann::json doc = spec;
  doc.erase("status");  // state lives in its own columns
  LOTE_ASSIGN_OR_RETURN(std::string text, DumpJson(doc, "the job"));
  std::lock_guard lock(mu_);
  Stmt s(db_, "INSERT INTO jobs(name, endpoint, doc, status) VALUES (?, ?, ?, 'NotStarted')");
  s.Bind(1, spec["name"].get_ref<const std::string&>());
  s.Bind(2, spec["endpoint"].get_ref<const std::string&>());
  s.Bind(3, text);
  int rc = s.Step();
  if (rc == SQLITE_CONSTRAINT) {
    return AlreadyExists("job '" + spec["name"].get<std::string>() + "' already exists");
  }
  return CheckDone(rc, "create job");
}

Result<JobRecord> SqliteStore::GetJob(const std::string& name) {
  std::lock_guard lock(mu_);
  std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE name = ?";
  Stmt s(db_, sql.c_str());
  s.Bind(1, name);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return NotFound("job '" + name + "' not found");
  if (rc != SQLITE_ROW) return StoreError("get job");
  auto r = ReadJobRow(s);
  if (!r) return r.error().WithContext("job '" + name + "'");
  return r;
}

Result<std::vector<JobRecord>> SqliteStore::ListJobs(const std::string& endpoint) {
  std::lock_guard lock(mu_);
  std::string sql = std::string("SELECT ") + kJobColumns +
                    " FROM jobs WHERE ? = '' OR endpoint = ? ORDER BY seq DESC";
  Stmt s(db_, sql.c_str());
  s.Bind(1, endpoint);
  s.Bind(2, endpoint);
  std::vector<JobRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    LOTE_ASSIGN_OR_RETURN(auto r, ReadJobRow(s));
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return StoreError("list jobs");
  return out;
}

Result<bool> SqliteStore::Transition(const std::string& job, const std::vector<JobStatus>& from,
                                     JobStatus to, const JobUpdate& u) {
  std::string sql =
      "UPDATE jobs SET status = ?, error = COALESCE(?, error), started_ms = COALESCE(?, started_ms), "
      "ended_ms = COALESCE(?, ended_ms), output_rows = COALESCE(?, output_rows) "
      "WHERE name = ? AND status IN (";
  for (size_t i = 0; i < from.size(); ++i) sql += i ? ", ?" : "?";
  sql += ")";
  std::lock_guard lock(mu_);
  Stmt s(db_, sql.c_str());
  s.Bind(1, JobStatusName(to));
  int i = 2;
  if (u.error) s.Bind(i++, *u.error); else s.BindNull(i++);
  for (const auto& v : {u.started_ms, u.ended_ms, u.output_rows}) {
    if (v) s.Bind(i++, *v); else s.BindNull(i++);
  }
  s.Bind(i++, job);
  for (JobStatus f : from) s.Bind(i++, JobStatusName(f));
  LOTE_TRY(CheckDone(s.Step(), "change job status"));
  if (sqlite3_changes(db_) == 1) return true;
  Stmt exists(db_, "SELECT 1 FROM jobs WHERE name = ?");
  exists.Bind(1, job);
  int rc = exists.Step();
  if (rc == SQLITE_DONE) return NotFound("job '" + job + "' not found");
  if (rc != SQLITE_ROW) return StoreError("change job status");
  return false;
}

Result<JobCounters> SqliteStore::Counters(const std::string& job) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT tasks_total, tasks_done, tasks_failed, tasks_retried, tasks_running, "
         "items_succeeded, items_failed, tasks_canceled, tasks_not_run FROM jobs WHERE name = ?");
  s.Bind(1, job);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return NotFound("job '" + job + "' not found");
  if (rc != SQLITE_ROW) return StoreError("read job counters");
  return JobCounters{s.Int(0), s.Int(1), s.Int(2), s.Int(3), s.Int(4), s.Int(5), s.Int(6), s.Int(7), s.Int(8)};
}

Status SqliteStore::BumpCounters(const std::string& job, const std::string& set_sql) {
  std::string sql = "UPDATE jobs SET " + set_sql + " WHERE name = ?";
  Stmt s(db_, sql.c_str());
  s.Bind(1, job);
  return CheckDone(s.Step(), "update job counters");
}

Status SqliteStore::DeleteTasks(const std::string& job) {
  return Transaction([&]() -> Status {
    Stmt d(db_, "DELETE FROM tasks WHERE job = ?");
    d.Bind(1, job);
    LOTE_TRY(CheckDone(d.Step(), "delete tasks"));
    return BumpCounters(job, "tasks_total = 0, tasks_done = 0, tasks_failed = 0, tasks_retried = 0, "
                             "tasks_running = 0, items_succeeded = 0, items_failed = 0, "
                             "output_header = NULL");
  });
}

Status SqliteStore::AddTasks(const std::string& job, const std::vector<nlohmann::json>& items) {
  std::vector<std::string> texts;
  texts.reserve(items.size());
  for (const auto& it : items) {
    LOTE_ASSIGN_OR_RETURN(std::string t, DumpJson(it, "a mini-batch of job '" + job + "'"));
    texts.push_back(std::move(t));
  }
  return Transaction([&]() -> Status {
    int64_t next = 0;
    {
      Stmt s(db_, "SELECT COALESCE(MAX(id), 0) FROM tasks WHERE job = ?");
      s.Bind(1, job);
      if (s.Step() != SQLITE_ROW) return StoreError("add tasks");
      next = s.Int(0);
    }
    Stmt ins(db_, "INSERT INTO tasks(job, id, status, items) VALUES (?, ?, 'pending', ?)");
    for (const auto& text : texts) {
      ins.Reset();
      ins.Bind(1, job);
      ins.Bind(2, ++next);
      ins.Bind(3, text);
      LOTE_TRY(CheckDone(ins.Step(), "add task"));
    }
    return BumpCounters(job, "tasks_total = tasks_total + " + std::to_string(items.size()));
  });
}

Result<std::vector<Task>> SqliteStore::LeaseTasks(const std::string& job, int max,
                                                  const std::string& worker, int64_t lease_ms,
                                                  int64_t now_ms) {
  std::vector<Task> out;
  LOTE_TRY(Transaction([&]() -> Status {
    out.clear();
    std::string sql = std::string("SELECT ") + kTaskColumns +
                      " FROM tasks WHERE job = ? AND status = 'pending' ORDER BY id LIMIT ?";
    Stmt s(db_, sql.c_str());
    s.Bind(1, job);
    s.Bind(2, static_cast<int64_t>(max));
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      LOTE_ASSIGN_OR_RETURN(Task t, RowToTask(s));
      out.push_back(std::move(t));
    }
    if (rc != SQLITE_DONE) return StoreError("lease tasks");
    Stmt u(db_,
           "UPDATE tasks SET status = 'leased', lease = ?, lease_expires = ?, "
           "attempts = attempts + 1, worker = ? WHERE job = ? AND id = ?");
    for (Task& t : out) {
      t.status = TaskStatus::kLeased;
      t.lease = RandomHex(8);
      t.lease_expires_ms = now_ms + lease_ms;
      t.attempts += 1;
      t.worker = worker;
      u.Reset();
      u.Bind(1, t.lease);
      u.Bind(2, t.lease_expires_ms);
      u.Bind(3, worker);
      u.Bind(4, job);
      u.Bind(5, t.id);
      LOTE_TRY(CheckDone(u.Step(), "lease task"));
    }
    if (out.empty()) return {};
    return BumpCounters(job, "tasks_running = tasks_running + " + std::to_string(out.size()));
  }));
  return out;
}

Result<Task> SqliteStore::ReadTask(const std::string& job, int64_t id) {
  std::string sql = std::string("SELECT ") + kTaskColumns + " FROM tasks WHERE job = ? AND id = ?";
  Stmt s(db_, sql.c_str());
  s.Bind(1, job);
  s.Bind(2, id);
  int rc = s.Step();
  if (rc == SQLITE_DONE) {
    return NotFound("mini-batch " + std::to_string(id) + " of job '" + job + "' not found");
  }
  if (rc != SQLITE_ROW) return StoreError("read task");
  return RowToTask(s);
}

Result<Task> SqliteStore::GetTask(const std::string& job, int64_t task) {
  std::lock_guard lock(mu_);
  return ReadTask(job, task);
}

Result<Task> SqliteStore::EndAttempt(const Task& cur, const TaskReport& r, int max_retries) {
  Task t = cur;
  t.worker = r.worker.empty() ? cur.worker : r.worker;
  t.started_ms = r.started_ms;
  t.elapsed_ms = r.elapsed_ms;
  t.error = r.error;
  t.outcome = r.outcome;
  t.lease = "";
  std::string counters = "tasks_running = tasks_running - 1";
  if (r.ok) {
    t.status = TaskStatus::kDone;
    t.succeeded = r.succeeded;
    t.failed = r.failed;
    t.part = r.part;
    t.part_offset = r.part_offset;
    t.part_length = r.part_length;
    t.header = r.header;
    t.item_errors = r.item_errors.is_array() ? r.item_errors : nlohmann::json::array();
    counters += ", tasks_done = tasks_done + 1, items_succeeded = items_succeeded + " +
                std::to_string(r.succeeded) + ", items_failed = items_failed + " + std::to_string(r.failed);
  } else if (cur.attempts <= max_retries) {
    t.item_errors = nlohmann::json::array();
    t.status = TaskStatus::kPending;
    counters += ", tasks_retried = tasks_retried + 1";
  } else {
    t.item_errors = nlohmann::json::array();
    t.status = TaskStatus::kFailed;
    t.succeeded = 0;
    t.failed = ItemCount(cur);
    counters += ", tasks_failed = tasks_failed + 1, items_failed = items_failed + " + std::to_string(t.failed);
  }
  Stmt u(db_,
         "UPDATE tasks SET status = ?, lease = '', lease_expires = 0, succeeded = ?, failed = ?, "
         "worker = ?, started_ms = ?, elapsed_ms = ?, error = ?, outcome = ?, part = ?, "
         "part_offset = ?, part_length = ?, header = ?, item_errors = ? WHERE job = ? AND id = ?");
  u.Bind(1, TaskStatusName(t.status));
  u.Bind(2, t.succeeded);
  u.Bind(3, t.failed);
  u.Bind(4, t.worker);
  u.Bind(5, t.started_ms);
  u.Bind(6, t.elapsed_ms);
  u.Bind(7, t.error);
  u.Bind(8, t.outcome);
  u.Bind(9, t.part);
  u.Bind(10, t.part_offset);
  u.Bind(11, t.part_length);
  u.Bind(12, t.header);
  LOTE_ASSIGN_OR_RETURN(std::string item_errors, DumpJson(t.item_errors, "the item errors of mini-batch " +
                                                                            std::to_string(cur.id)));
  u.Bind(13, item_errors);
  u.Bind(14, cur.job);
  u.Bind(15, cur.id);
  LOTE_TRY(CheckDone(u.Step(), "finish task"));
  LOTE_TRY(BumpCounters(cur.job, counters));
  return t;
}

Result<Task> SqliteStore::FinishTask(const std::string& job, int64_t task, const TaskReport& report,
                                     int max_retries) {
  Task out;
  LOTE_TRY(Transaction([&]() -> Status {
    LOTE_ASSIGN_OR_RETURN(Task cur, ReadTask(job, task));
    if (cur.status != TaskStatus::kLeased || cur.lease != report.lease) {
      return FailedPrecondition("mini-batch " + std::to_string(task) + " of job '" + job +
                                "' is no longer leased to this worker (lease expired or reassigned)");
    }
    LOTE_ASSIGN_OR_RETURN(out, EndAttempt(cur, report, max_retries));
    return {};
  }));
  return out;
}

Result<std::vector<CommitOutcome>> SqliteStore::FinishTasks(const std::string& job,
                                                            const std::vector<TaskCommit>& commits,
                                                            int max_retries) {
  std::vector<CommitOutcome> outcomes;
  LOTE_TRY(Transaction([&]() -> Status {
    outcomes.clear();
    std::optional<std::string> output_header;
    {
      Stmt h(db_, "SELECT output_header FROM jobs WHERE name = ?");
      h.Bind(1, job);
      int rc = h.Step();
      if (rc == SQLITE_DONE) return NotFound("job '" + job + "' not found");
      if (rc != SQLITE_ROW) return StoreError("read the output header");
      if (!h.IsNull(0)) output_header = h.Text(0);
    }
    for (const TaskCommit& c : commits) {
      auto cur = ReadTask(job, c.task);
      if (!cur && cur.error().code() != ErrorCode::kNotFound) return cur.error();
      if (!cur || cur->status != TaskStatus::kLeased || cur->lease != c.report.lease) {
        outcomes.push_back(CommitOutcome::kStaleLease);
        continue;
      }
      // Rows only: a mini-batch that produced none has nothing to agree on.
      const bool has_rows = c.report.ok && c.report.part_length != 0;
      if (has_rows && output_header && *output_header != c.report.header) {
        TaskReport failed = c.report;
        failed.ok = false;
        failed.outcome = "RUN_HEADER_MISMATCH";
        failed.error = "its output columns " + Quote(c.report.header) + " differ from the output's " +
                       Quote(*output_header) + " (fixed by the first mini-batch committed); rows "
                       "under two headers cannot go into one CSV";
        // Deterministic: a retry would produce the same columns.
        LOTE_TRY(EndAttempt(*cur, failed, /*max_retries=*/-1));
        outcomes.push_back(CommitOutcome::kHeaderMismatch);
        continue;
      }
      if (has_rows && !output_header) {
        output_header = c.report.header;
        Stmt set(db_, "UPDATE jobs SET output_header = ? WHERE name = ?");
        set.Bind(1, *output_header);
        set.Bind(2, job);
        LOTE_TRY(CheckDone(set.Step(), "record the output header"));
      }
      LOTE_TRY(EndAttempt(*cur, c.report, max_retries));
      outcomes.push_back(CommitOutcome::kAccepted);
    }
    return {};
  }));
  return outcomes;
}

Result<int> SqliteStore::ExpireWhere(const std::string& job, const std::string& where,
                                     const std::function<void(Stmt&)>& bind, int max_retries,
                                     const std::string& reason) {
  int n = 0;
  LOTE_TRY(Transaction([&]() -> Status {
    n = 0;
    std::string sql = std::string("SELECT ") + kTaskColumns +
                      " FROM tasks WHERE job = ? AND status = 'leased' AND (" + where + ")";
    Stmt s(db_, sql.c_str());
    s.Bind(1, job);
    bind(s);
    std::vector<Task> expired;
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      LOTE_ASSIGN_OR_RETURN(Task t, RowToTask(s));
      expired.push_back(std::move(t));
    }
    if (rc != SQLITE_DONE) return StoreError("find expired leases");
    for (const Task& t : expired) {
      TaskReport r;
      r.ok = false;
      r.error = reason;
      r.outcome = "RUN_LOST";
      r.worker = t.worker;
      LOTE_TRY(EndAttempt(t, r, max_retries));
      ++n;
    }
    return {};
  }));
  return n;
}

Result<StoppedTasks> SqliteStore::StopUnfinished(const std::string& job, const std::string& reason) {
  StoppedTasks out;
  LOTE_TRY(Transaction([&]() -> Status {
    int64_t canceled = 0, not_run = 0;
    {
      Stmt s(db_, "SELECT COALESCE(SUM(status = 'leased'), 0), COALESCE(SUM(status = 'pending'), 0) FROM tasks "
                  "WHERE job = ? AND status IN ('leased', 'pending')");
      s.Bind(1, job);
      if (s.Step() != SQLITE_ROW) return StoreError("count unfinished tasks");
      canceled = s.Int(0);
      not_run = s.Int(1);
    }
    Stmt u(db_, "UPDATE tasks SET "
                "outcome = CASE status WHEN 'leased' THEN 'CANCELED' ELSE 'NOT_RUN' END, "
                "status = CASE status WHEN 'leased' THEN 'canceled' ELSE 'not_run' END, "
                "error = ?, lease = '', lease_expires = 0, succeeded = 0, failed = 0 "
                "WHERE job = ? AND status IN ('leased', 'pending')");
    u.Bind(1, reason);
    u.Bind(2, job);
    LOTE_TRY(CheckDone(u.Step(), "stop unfinished tasks"));
    LOTE_TRY(BumpCounters(job, "tasks_running = 0, tasks_canceled = tasks_canceled + " + std::to_string(canceled) +
                                   ", tasks_not_run = tasks_not_run + " + std::to_string(not_run)));
    out = StoppedTasks{.canceled = canceled, .not_run = not_run};
    return {};
  }));
  return out;
}

Result<int> SqliteStore::RequeueDone(const std::string& job, const std::vector<int64_t>& tasks,
                                     const std::string& reason) {
  int n = 0;
  LOTE_TRY(Transaction([&]() -> Status {
    n = 0;
    for (int64_t id : tasks) {
      LOTE_ASSIGN_OR_RETURN(Task t, ReadTask(job, id));
      if (t.status != TaskStatus::kDone) continue;
      Stmt u(db_, "UPDATE tasks SET status = 'pending', succeeded = 0, failed = 0, part = '', "
                  "part_offset = 0, part_length = -1, header = '', item_errors = '[]', error = ?, "
                  "outcome = 'RUN_LOST' "
                  "WHERE job = ? AND id = ?");
      u.Bind(1, reason);
      u.Bind(2, job);
      u.Bind(3, id);
      LOTE_TRY(CheckDone(u.Step(), "requeue task"));
      LOTE_TRY(BumpCounters(job, "tasks_done = tasks_done - 1, tasks_retried = tasks_retried + 1, "
                                 "items_succeeded = items_succeeded - " + std::to_string(t.succeeded) +
                                 ", items_failed = items_failed - " + std::to_string(t.failed)));
      ++n;
    }
    return {};
  }));
  return n;
}

Result<std::vector<Task>> SqliteStore::ListTasks(const std::string& job, int64_t after_id, int limit) {
  return ListTasksWhere(job, "1", after_id, limit);
}

Result<std::vector<Task>> SqliteStore::ListFailedTasks(const std::string& job, int64_t after_id, int limit) {
  return ListTasksWhere(job, "status = 'failed' OR item_errors != '[]'", after_id, limit);
}

Result<std::vector<Task>> SqliteStore::ListTasksWhere(const std::string& job, const char* where,
                                                      int64_t after_id, int limit) {
  std::lock_guard lock(mu_);
  std::string sql = std::string("SELECT ") + kTaskColumns + " FROM tasks WHERE job = ? AND id > ? AND (" +
                    where + ") ORDER BY id LIMIT ?";
  Stmt s(db_, sql.c_str());
  s.Bind(1, job);
  s.Bind(2, after_id);
  s.Bind(3, static_cast<int64_t>(limit));
  std::vector<Task> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    LOTE_ASSIGN_OR_RETURN(Task t, RowToTask(s));
    out.push_back(std::move(t));
  }
  if (rc != SQLITE_DONE) return StoreError("list tasks");
  return out;
}

}  // namespace lote::store
