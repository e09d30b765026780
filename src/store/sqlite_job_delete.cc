// SqliteStore::DeleteJob: a job's rows go in one transaction, and only
// from a status the caller says has ended (a compare-and-set: a job that
// was started again or is still ending is never deleted under it).
#include "store/sqlite_store_impl.h"

namespace lote::store {

Result<bool> SqliteStore::DeleteJob(const std::string& job, const std::vector<JobStatus>& ended) {
  if (ended.empty()) return InvalidArgument("DeleteJob needs the statuses a job may be deleted from");
  bool deleted = false;
  LOTE_TRY(Transaction([&]() -> Status {
    LOTE_TRY(GetJob(job));  // NotFound, worded as for any missing job
    std::string in;
    for (size_t i = 0; i < ended.size(); ++i) in += i == 0 ? "?" : ", ?";
    std::string sql = "DELETE FROM jobs WHERE name = ? AND status IN (" + in + ")";
    Stmt d(db_, sql.c_str());
    d.Bind(1, job);
    for (size_t i = 0; i < ended.size(); ++i) d.Bind(static_cast<int>(i) + 2, std::string(JobStatusName(ended[i])));
    LOTE_TRY(CheckDone(d.Step(), "delete job"));
    deleted = sqlite3_changes(db_) > 0;
    if (!deleted) return {};
    Stmt t(db_, "DELETE FROM tasks WHERE job = ?");
    t.Bind(1, job);
    return CheckDone(t.Step(), "delete the job's tasks");
  }));
  return deleted;
}

}  // namespace lote::store
