// JobManagerImpl: what ended jobs give back (jobs/job_cleanup.h), and the
// retention sweep of `lote serve --retain-jobs-days`. All of it runs on the
// finalization pool: the scheduler only decides when.
#include <filesystem>
#include <system_error>

#include "jobs/job_cleanup.h"
#include "jobs/job_manager_impl.h"

namespace lote::jobs {

namespace fs = std::filesystem;

namespace {

// The sweep looks this often (more often for a short retention, so a test's
// fraction of a day is honoured within a second or two).
int64_t SweepPeriodMs(int64_t retain_ms) { return std::clamp<int64_t>(retain_ms / 4, 1000, 60'000); }

}  // namespace

void JobManagerImpl::ReclaimEnded(const std::string& name) {
  if (!finalize_pool_) return;
  auto work = std::make_shared<Work<bool>>();
  finalize_pool_->Run<bool>(
      work,
      [this, name](Work<bool>&) -> Result<bool> {
        auto rec = options_.store->GetJob(name);
        if (!rec) return true;  // deleted meanwhile
        auto spec = SpecOf(*rec);
        // Rows that reached no output stay where they are: the only copy.
        const bool keep = !spec || !RowsAreSaved(*rec, **spec);
        if (keep && rec->counters.tasks_done > 0) {
          LogTo(options_.log, LogLevel::kWarn, "job",
                "job=" + name + " keeps its results folder: its committed rows were written to no output");
        }
        if (auto r = ReclaimJobFiles(DirOf(name), keep); !r) {
          Log("job '" + name + "': " + r.error().message());
        } else if (r->files > 0) {
          LogTo(options_.log, LogLevel::kInfo, "job",
                "job=" + name + " reclaimed " + std::to_string(r->bytes) + " bytes in " +
                    std::to_string(r->files) + " result and staging files (its rows are in its output)");
        }
        ReclaimUpload(*rec);
        return true;
      },
      nullptr);
}

void JobManagerImpl::ReclaimUpload(const store::JobRecord& rec) {
  const std::string folder = UploadFolderOf(rec.spec);
  if (folder.empty()) return;
  const std::string name = rec.name();
  // Another job that has not ended reads the same upload: it goes when that
  // one ends (its own ReclaimEnded looks again).
  auto jobs = options_.store->ListJobs("");
  if (!jobs) {
    Log("job '" + name + "': cannot check who else uses its uploaded input: " + jobs.error().message());
    return;
  }
  for (const store::JobRecord& other : *jobs) {
    if (other.name() != name && !store::IsTerminal(other.state.status) && UploadFolderOf(other.spec) == folder) {
      return;
    }
  }
  // A data asset registered over the upload keeps it for good.
  auto assets = options_.registry->ListData();
  if (!assets) {
    Log("job '" + name + "': cannot check the data assets before removing its uploaded input: " +
        assets.error().message());
    return;
  }
  for (const auto& a : *assets) {
    const std::string rel = a.value("relative_path", std::string());
    if (a.value("datastore", std::string()) == kUploadDatastore && (rel == folder || rel.starts_with(folder + "/"))) {
      return;
    }
  }
  auto ds = options_.registry->OpenDatastore(kUploadDatastore);
  if (!ds) {
    Log("job '" + name + "': cannot open the datastore of its uploaded input: " + ds.error().message());
    return;
  }
  // LocalUpload/ and the upload's folder must be real folders of the
  // datastore: a link is never followed out of it.
  std::error_code ec;
  const fs::path parent = ds->root() / "LocalUpload";
  const fs::path dir = ds->root() / folder;
  if (!fs::is_directory(fs::symlink_status(parent, ec)) || !fs::is_directory(fs::symlink_status(dir, ec))) return;
  fs::remove_all(dir, ec);
  if (ec) {
    Log("job '" + name + "': cannot remove its uploaded input '" + folder + "': " + ec.message());
    return;
  }
  LogTo(options_.log, LogLevel::kInfo, "job",
        "job=" + name + " removed its uploaded input " + folder + " (no other running job uses it)");
}

void JobManagerImpl::ReclaimAtStart(const std::vector<store::JobRecord>& jobs) {
  for (const store::JobRecord& rec : jobs) {
    if (!store::IsTerminal(rec.state.status)) continue;
    // What a crash between recording the end and reclaiming left behind.
    bool upload_left = false;
    if (const std::string folder = UploadFolderOf(rec.spec); !folder.empty()) {
      if (auto ds = options_.registry->OpenDatastore(kUploadDatastore)) {
        std::error_code ec;
        upload_left = fs::exists(fs::symlink_status(ds->root() / folder, ec));
      }
    }
    if (HasReclaimableFiles(DirOf(rec.name())) || upload_left) ReclaimEnded(rec.name());
  }
}

void JobManagerImpl::MaybeSweepRetention() {
  if (options_.retain_jobs_ms <= 0 || !finalize_pool_) return;
  const int64_t now = Now();
  if (now < next_sweep_ms_) return;
  if (sweeping_ && !sweeping_->done()) return;
  next_sweep_ms_ = now + SweepPeriodMs(options_.retain_jobs_ms);
  sweeping_ = std::make_shared<Work<int>>();
  const int64_t cutoff = now - options_.retain_jobs_ms;
  finalize_pool_->Run<int>(
      sweeping_,
      [this, cutoff](Work<int>&) -> Result<int> {
        LOTE_ASSIGN_OR_RETURN(auto jobs, options_.store->ListJobs(""));
        int deleted = 0;
        for (const store::JobRecord& rec : jobs) {
          // Only ended jobs, by their recorded end; DeleteJob compares and
          // sets on an ended status, so a job that is running is never hit.
          if (!store::IsTerminal(rec.state.status) || rec.state.ended_ms <= 0 || rec.state.ended_ms > cutoff) {
            continue;
          }
          const std::string name = rec.name();
          if (Status st = DeleteJob(name); !st) {
            if (st.error().code() != ErrorCode::kNotFound) {
              Log("retention: cannot delete job '" + name + "': " + st.error().message());
            }
            continue;
          }
          ++deleted;
          LogTo(options_.log, LogLevel::kInfo, "retention",
                "job=" + name + " deleted: ended " + std::to_string((cutoff + options_.retain_jobs_ms -
                                                                      rec.state.ended_ms) / 1000) +
                    " s ago, past --retain-jobs-days");
        }
        return deleted;
      },
      nullptr);
}

}  // namespace lote::jobs
