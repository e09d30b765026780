// JobStore on SQLite: jobs keep their counters in columns updated in the same
// transaction as the task rows, so progress and completion checks are O(1).
#include "store/sqlite_store_impl.h"
#include "common/util.h"

namespace lote::store {

namespace {

constexpr const char* kTaskColumns =
    "job, id, status, attempts, lease, lease_expires, items, succeeded, failed, worker, "
    "started_ms, elapsed_ms, error, outcome, part, part_offset, part_length, header";

Task RowToTask(Stmt& s) {
  Task t;
  t.job = s.Text(0);
  t.id = s.Int(1);
  t.status = s.Text(2);
  t.attempts = static_cast<int>(s.Int(3));
  t.lease = s.Text(4);
  t.lease_expires_ms = s.Int(5);
  t.items = nlohmann::json::parse(s.Text(6), nullptr, false);
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
  return t;
}

int64_t ItemCount(const Task& t) { return t.items.is_array() ? static_cast<int64_t>(t.items.size()) : 0; }

}  // namespace

Status SqliteStore::CreateJob(const nlohmann::json& job) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "INSERT INTO jobs(name, endpoint, doc) VALUES (?, ?, ?)");
  s.Bind(1, job.at("name").get<std::string>());
  s.Bind(2, job.at("endpoint").get<std::string>());
  s.Bind(3, job.dump());
  int rc = s.Step();
  if (rc == SQLITE_CONSTRAINT) {
    return AlreadyExists("job '" + job["name"].get<std::string>() + "' already exists");
  }
  return CheckDone(rc, "create job");
}

Result<nlohmann::json> SqliteStore::GetJob(const std::string& name) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT doc FROM jobs WHERE name = ?");
  s.Bind(1, name);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return NotFound("job '" + name + "' not found");
  if (rc != SQLITE_ROW) return StoreError("get job");
  return ParseDoc(s.Text(0));
}

Result<std::vector<nlohmann::json>> SqliteStore::ListJobs(const std::string& endpoint) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT doc FROM jobs WHERE ? = '' OR endpoint = ? ORDER BY seq DESC");
  s.Bind(1, endpoint);
  s.Bind(2, endpoint);
  std::vector<nlohmann::json> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    LOTE_ASSIGN_OR_RETURN(auto doc, ParseDoc(s.Text(0)));
    out.push_back(std::move(doc));
  }
  if (rc != SQLITE_DONE) return StoreError("list jobs");
  return out;
}

Status SqliteStore::ReplaceJob(const nlohmann::json& job) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE jobs SET doc = ? WHERE name = ?");
  s.Bind(1, job.dump());
  s.Bind(2, job.at("name").get<std::string>());
  LOTE_TRY(CheckDone(s.Step(), "update job"));
  if (sqlite3_changes(db_) == 0) return NotFound("job '" + job["name"].get<std::string>() + "' not found");
  return {};
}

Result<JobCounters> SqliteStore::Counters(const std::string& job) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT tasks_total, tasks_done, tasks_failed, tasks_retried, tasks_running, "
         "items_succeeded, items_failed FROM jobs WHERE name = ?");
  s.Bind(1, job);
  if (s.Step() != SQLITE_ROW) return NotFound("job '" + job + "' not found");
  return JobCounters{s.Int(0), s.Int(1), s.Int(2), s.Int(3), s.Int(4), s.Int(5), s.Int(6)};
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
                             "tasks_running = 0, items_succeeded = 0, items_failed = 0");
  });
}

Status SqliteStore::AddTasks(const std::string& job, const std::vector<nlohmann::json>& items) {
  return Transaction([&]() -> Status {
    int64_t next = 0;
    {
      Stmt s(db_, "SELECT COALESCE(MAX(id), 0) FROM tasks WHERE job = ?");
      s.Bind(1, job);
      if (s.Step() == SQLITE_ROW) next = s.Int(0);
    }
    Stmt ins(db_, "INSERT INTO tasks(job, id, status, items) VALUES (?, ?, 'pending', ?)");
    for (const auto& it : items) {
      ins.Reset();
      ins.Bind(1, job);
      ins.Bind(2, ++next);
      ins.Bind(3, it.dump());
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
    std::string sql = std::string("SELECT ") + kTaskColumns +
                      " FROM tasks WHERE job = ? AND status = 'pending' ORDER BY id LIMIT ?";
    Stmt s(db_, sql.c_str());
    s.Bind(1, job);
    s.Bind(2, static_cast<int64_t>(max));
    while (s.Step() == SQLITE_ROW) out.push_back(RowToTask(s));
    for (Task& t : out) {
      t.status = "leased";
      t.lease = RandomHex(8);
      t.lease_expires_ms = now_ms + lease_ms;
      t.attempts += 1;
      t.worker = worker;
      Stmt u(db_,
             "UPDATE tasks SET status = 'leased', lease = ?, lease_expires = ?, "
             "attempts = attempts + 1, worker = ? WHERE job = ? AND id = ?");
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
  if (s.Step() != SQLITE_ROW) {
    return NotFound("mini-batch " + std::to_string(id) + " of job '" + job + "' not found");
  }
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
    t.status = "done";
    t.succeeded = r.succeeded;
    t.failed = r.failed;
    t.part = r.part;
    t.part_offset = r.part_offset;
    t.part_length = r.part_length;
    t.header = r.header;
    counters += ", tasks_done = tasks_done + 1, items_succeeded = items_succeeded + " +
                std::to_string(r.succeeded) + ", items_failed = items_failed + " + std::to_string(r.failed);
  } else if (cur.attempts <= max_retries) {
    t.status = "pending";
    counters += ", tasks_retried = tasks_retried + 1";
  } else {
    t.status = "failed";
    t.succeeded = 0;
    t.failed = ItemCount(cur);
    counters += ", tasks_failed = tasks_failed + 1, items_failed = items_failed + " + std::to_string(t.failed);
  }
  Stmt u(db_,
         "UPDATE tasks SET status = ?, lease = '', lease_expires = 0, succeeded = ?, failed = ?, "
         "worker = ?, started_ms = ?, elapsed_ms = ?, error = ?, outcome = ?, part = ?, "
         "part_offset = ?, part_length = ?, header = ? WHERE job = ? AND id = ?");
  u.Bind(1, t.status);
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
  u.Bind(13, cur.job);
  u.Bind(14, cur.id);
  LOTE_TRY(CheckDone(u.Step(), "finish task"));
  LOTE_TRY(BumpCounters(cur.job, counters));
  return t;
}

Result<Task> SqliteStore::FinishTask(const std::string& job, int64_t task, const TaskReport& report,
                                     int max_retries) {
  Task out;
  LOTE_TRY(Transaction([&]() -> Status {
    LOTE_ASSIGN_OR_RETURN(Task cur, ReadTask(job, task));
    if (cur.status != "leased" || cur.lease != report.lease) {
      return FailedPrecondition("mini-batch " + std::to_string(task) + " of job '" + job +
                                "' is no longer leased to this worker (lease expired or reassigned)");
    }
    LOTE_ASSIGN_OR_RETURN(out, EndAttempt(cur, report, max_retries));
    return {};
  }));
  return out;
}

Result<std::vector<bool>> SqliteStore::FinishTasks(const std::string& job,
                                                   const std::vector<TaskCommit>& commits,
                                                   int max_retries) {
  std::vector<bool> accepted;
  LOTE_TRY(Transaction([&]() -> Status {
    accepted.clear();
    for (const TaskCommit& c : commits) {
      auto cur = ReadTask(job, c.task);
      if (!cur && cur.error().code() != ErrorCode::kNotFound) return cur.error();
      bool current = cur && cur->status == "leased" && cur->lease == c.report.lease;
      if (current) LOTE_TRY(EndAttempt(*cur, c.report, max_retries));
      accepted.push_back(current);
    }
    return {};
  }));
  return accepted;
}

Result<int> SqliteStore::ReleaseTasks(const std::string& job,
                                      const std::vector<std::pair<int64_t, std::string>>& leases) {
  int n = 0;
  LOTE_TRY(Transaction([&]() -> Status {
    Stmt u(db_,
           "UPDATE tasks SET status = 'pending', lease = '', lease_expires = 0, "
           "attempts = MAX(attempts - 1, 0) WHERE job = ? AND id = ? AND status = 'leased' "
           "AND lease = ?");
    for (const auto& [id, lease] : leases) {
      u.Reset();
      u.Bind(1, job);
      u.Bind(2, id);
      u.Bind(3, lease);
      LOTE_TRY(CheckDone(u.Step(), "release task"));
      n += sqlite3_changes(db_);
    }
    if (n == 0) return {};
    return BumpCounters(job, "tasks_running = tasks_running - " + std::to_string(n));
  }));
  return n;
}

Result<int> SqliteStore::ExpireWhere(const std::string& job, const std::string& where,
                                     const std::function<void(Stmt&)>& bind, int max_retries,
                                     const std::string& reason) {
  int n = 0;
  LOTE_TRY(Transaction([&]() -> Status {
    std::string sql = std::string("SELECT ") + kTaskColumns +
                      " FROM tasks WHERE job = ? AND status = 'leased' AND (" + where + ")";
    Stmt s(db_, sql.c_str());
    s.Bind(1, job);
    bind(s);
    std::vector<Task> expired;
    while (s.Step() == SQLITE_ROW) expired.push_back(RowToTask(s));
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

Result<int> SqliteStore::ExpireLeases(const std::string& job, int64_t now_ms, int max_retries,
                                      const std::string& reason) {
  return ExpireWhere(job, "? < 0 OR lease_expires < ?", [&](Stmt& s) {
    s.Bind(2, now_ms);
    s.Bind(3, now_ms);
  }, max_retries, reason);
}

Result<int> SqliteStore::ExpireLeasesOf(const std::string& job, const std::string& worker_prefix,
                                        int max_retries, const std::string& reason) {
  return ExpireWhere(job, "substr(worker, 1, length(?)) = ?", [&](Stmt& s) {
    s.Bind(2, worker_prefix);
    s.Bind(3, worker_prefix);
  }, max_retries, reason);
}

Result<int> SqliteStore::ReleaseLeases(const std::string& job) {
  int n = 0;
  LOTE_TRY(Transaction([&]() -> Status {
    Stmt u(db_,
           "UPDATE tasks SET status = 'pending', lease = '', lease_expires = 0, "
           "attempts = MAX(attempts - 1, 0) WHERE job = ? AND status = 'leased'");
    u.Bind(1, job);
    LOTE_TRY(CheckDone(u.Step(), "release leases"));
    n = sqlite3_changes(db_);
    return BumpCounters(job, "tasks_running = 0");
  }));
  return n;
}

Status SqliteStore::CancelPending(const std::string& job, const std::string& reason) {
  return Transaction([&]() -> Status {
    int64_t tasks = 0, items = 0;
    {
      Stmt s(db_, "SELECT COUNT(*), COALESCE(SUM(json_array_length(items)), 0) FROM tasks "
                  "WHERE job = ? AND status = 'pending'");
      s.Bind(1, job);
      if (s.Step() == SQLITE_ROW) {
        tasks = s.Int(0);
        items = s.Int(1);
      }
    }
    Stmt u(db_, "UPDATE tasks SET status = 'failed', error = ?, outcome = 'NOT_RUN', "
                "failed = json_array_length(items) WHERE job = ? AND status = 'pending'");
    u.Bind(1, reason);
    u.Bind(2, job);
    LOTE_TRY(CheckDone(u.Step(), "cancel tasks"));
    return BumpCounters(job, "tasks_failed = tasks_failed + " + std::to_string(tasks) +
                                 ", items_failed = items_failed + " + std::to_string(items));
  });
}

Result<std::vector<Task>> SqliteStore::ListTasks(const std::string& job, int64_t after_id, int limit) {
  std::lock_guard lock(mu_);
  std::string sql = std::string("SELECT ") + kTaskColumns +
                    " FROM tasks WHERE job = ? AND id > ? ORDER BY id LIMIT ?";
  Stmt s(db_, sql.c_str());
  s.Bind(1, job);
  s.Bind(2, after_id);
  s.Bind(3, static_cast<int64_t>(limit));
  std::vector<Task> out;
  while (s.Step() == SQLITE_ROW) out.push_back(RowToTask(s));
  return out;
}

}  // namespace lote::store
