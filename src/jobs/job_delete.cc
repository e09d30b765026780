// JobManagerImpl::DeleteJob: an ended job's record, then its folder.
//
// The record goes first, compare-and-set on an ended status, so a job is
// never seen with its files gone. The folder is then renamed aside at once
// (a new job of the same name finds its name free only after that) and
// removed; `.deleted-*` leftovers of a crash are removed at the next start.
#include <system_error>

#include "common/util.h"
#include "jobs/job_manager_impl.h"

namespace lote::jobs {

namespace fs = std::filesystem;

namespace {

const std::vector<store::JobStatus> kEnded = {store::JobStatus::kCompleted, store::JobStatus::kFailed,
                                              store::JobStatus::kCanceled};

}  // namespace

Status JobManagerImpl::DeleteJob(const std::string& name) {
  LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(name));
  {
    std::lock_guard lock(active_mu_);
    if (active_.contains(name) || stepping_.contains(name)) {
      return FailedPrecondition("job '" + name + "' is " + std::string(store::JobStatusName(rec.state.status)) +
                                "; only an ended job (Completed, Failed, Canceled) can be deleted: cancel it "
                                "first (lote job cancel)");
    }
  }
  LOTE_ASSIGN_OR_RETURN(bool deleted, options_.store->DeleteJob(name, kEnded));
  if (!deleted) {
    auto now = options_.store->GetJob(name);
    std::string status = now ? std::string(store::JobStatusName(now->state.status)) : "changing";
    return FailedPrecondition("job '" + name + "' is " + status +
                              "; only an ended job (Completed, Failed, Canceled) can be deleted");
  }
  {
    std::lock_guard l1(specs_mu_);
    specs_.erase(name);
  }
  {
    std::lock_guard l2(agents_mu_);
    agents_.erase(name);
    live_agents_.erase(name);
  }
  {
    std::lock_guard l3(storage_mu_);
    storage_errors_.erase(name);
  }
  ForgetArtifacts(name);
  const fs::path folder = DirOf(name).root;
  const fs::path aside = folder.parent_path() / (".deleted-" + name + "-" + RandomHex(4));
  std::error_code ec;
  fs::rename(folder, aside, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    Log("job '" + name + "' deleted, but its folder '" + folder.string() + "' could not be moved aside: " +
        ec.message());
    return {};
  }
  fs::remove_all(aside, ec);
  if (ec) Log("job '" + name + "' deleted; removing its folder failed (removed at the next start): " + ec.message());
  LogTo(options_.log, LogLevel::kInfo, "job", "job=" + name + " deleted");
  return {};
}

void JobManagerImpl::RemoveDeletedFolders() {
  std::error_code ec;
  for (auto it = fs::directory_iterator(options_.home.jobs(), ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (!it->path().filename().string().starts_with(".deleted-")) continue;
    std::error_code rm;
    fs::remove_all(it->path(), rm);
    if (rm) Log("cannot remove '" + it->path().string() + "': " + rm.message());
  }
}

}  // namespace lote::jobs
