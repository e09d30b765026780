// SqliteStore's lease hand-backs: leases returned by their agent, expired,
// or ended with the agent that held them (ExpireWhere, in
// sqlite_job_store.cc, ends the selected attempts).
#include "store/sqlite_store_impl.h"

namespace lote::store {

Result<int> SqliteStore::ReleaseTasks(const std::string& job,
                                      const std::vector<std::pair<int64_t, std::string>>& leases) {
  int n = 0;
  LOTE_TRY(Transaction([&]() -> Status {
    n = 0;
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

Result<int> SqliteStore::ReleaseLeasesOf(const std::string& job, const std::string& worker_prefix) {
  int n = 0;
  LOTE_TRY(Transaction([&]() -> Status {
    Stmt u(db_,
           "UPDATE tasks SET status = 'pending', lease = '', lease_expires = 0, "
           "attempts = MAX(attempts - 1, 0) WHERE job = ? AND status = 'leased' "
           "AND substr(worker, 1, length(?)) = ?");
    u.Bind(1, job);
    u.Bind(2, worker_prefix);
    u.Bind(3, worker_prefix);
    LOTE_TRY(CheckDone(u.Step(), "release leases"));
    n = sqlite3_changes(db_);
    if (n == 0) return {};
    return BumpCounters(job, "tasks_running = tasks_running - " + std::to_string(n));
  }));
  return n;
}

}  // namespace lote::store
