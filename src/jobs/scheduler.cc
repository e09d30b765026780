// JobManager's scheduler: one thread that decides. On each tick (or wake) it
// reads every unfinished job's status and acts on it; what takes time
// (planning, output assembly, reports) runs on the pools, and the scheduler
// records the result on a later tick. Every status change is a
// compare-and-set (jobs/job_state.h): when a cancel arrived in between, the
// change does not happen and the next tick handles the cancel.
#include <cstdio>

#include "common/util.h"
#include "jobs/job_manager_impl.h"
#include "jobs/job_state.h"
#include "jobs/output_assembly.h"
#include "jobs/preparer.h"

namespace lote::jobs {

using store::JobStatus;
namespace fs = std::filesystem;

// A status change that failed in the store is retried on the next tick; the
// job stays where it was meanwhile.
bool JobManagerImpl::Moved(const Result<bool>& r, const std::string& job, const char* what) const {
  if (!r) {
    Log("job '" + job + "': cannot " + what + ": " + r.error().message());
    return false;
  }
  return *r;
}

void JobManagerImpl::Start() {
  prepare_pool_ = std::make_unique<WorkPool>(std::max(1, options_.prepare_threads), "preparation");
  finalize_pool_ = std::make_unique<WorkPool>(std::max(1, options_.finalize_threads), "finalization");
  assemble_pool_ = std::make_unique<WorkPool>(1, "early assembly");
  // Resume what a previous control plane left unfinished.
  auto jobs = options_.store->ListJobs("");
  if (!jobs) Log("cannot list the jobs to resume: " + jobs.error().message());
  for (const store::JobRecord& rec : jobs ? *jobs : std::vector<store::JobRecord>{}) {
    const JobStatus s = rec.state.status;
    if (store::IsTerminal(s)) continue;
    const std::string name = rec.name();
    auto released = options_.store->ReleaseLeases(name);
    if (!released) Log("job '" + name + "': cannot release its leases: " + released.error().message());
    Event(name, "control plane restarted; resuming (" + std::to_string(released ? *released : 0) +
                                 " leased mini-batches queued again)");
    if (s == JobStatus::kPreparing) {
      // Planning starts over: its tasks may be half written.
      Moved(Move(*options_.store, name, {JobStatus::kPreparing}, JobStatus::kNotStarted), name, "plan again");
    }
    std::lock_guard lock(active_mu_);
    active_[name] = Active{};
  }
  RemoveDeletedFolders();
  if (jobs) ReclaimAtStart(*jobs);
  thread_ = std::thread([this] { Loop(); });
}

void JobManagerImpl::Stop() {
  {
    std::lock_guard lock(wake_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(active_mu_);
    for (auto& [name, active] : active_) {
      StopAgents(name, active);
      if (active.preparing) active.preparing->Cancel();
    }
  }
  // Work in flight finishes (its result is not recorded: the next start
  // redoes it); what has not started is dropped.
  prepare_pool_.reset();
  finalize_pool_.reset();
  assemble_pool_.reset();
}

void JobManagerImpl::Loop() {
  while (true) {
    {
      std::unique_lock lock(wake_mu_);
      wake_cv_.wait_for(lock, std::chrono::milliseconds(options_.tick_ms), [this] { return woken_ || stopping_; });
      if (stopping_) return;
      woken_ = false;
    }
    // The barrier of the scheduler thread: whatever a dependency throws is
    // logged and the next tick goes on; the process never ends from here.
    try {
      Tick();
    } catch (const std::exception& e) {
      Log(std::string("unexpected exception: ") + e.what());
    } catch (...) {
      Log("unexpected exception");
    }
  }
}

void JobManagerImpl::Tick() {
  MaybeSweepRetention();
  std::vector<std::string> names;
  {
    std::lock_guard lock(active_mu_);
    for (auto& [name, _] : active_) names.push_back(name);
  }
  for (const std::string& name : names) {
    Active active;
    {
      std::lock_guard lock(active_mu_);
      auto it = active_.find(name);
      if (it == active_.end()) continue;
      active = std::move(it->second);
      stepping_.insert(name);
    }
    try {
      Step(name, active);
    } catch (const std::exception& e) {
      Log("job '" + name + "': unexpected exception: " + e.what());
    }
    std::lock_guard lock(active_mu_);
    stepping_.erase(name);
    if (active.finished) {
      active_.erase(name);
      {
        std::lock_guard specs(specs_mu_);
        specs_.erase(name);
      }
      ForgetArtifacts(name);
    } else {
      active_[name] = std::move(active);
    }
  }
}

void JobManagerImpl::Step(const std::string& name, Active& active) {
  if (active.closing) {
    if (active.closing->done()) AfterClosing(name, active);
    return;  // nothing else happens to a job that is being closed
  }
  auto loaded = options_.store->GetJob(name);
  if (!loaded) {
    if (loaded.error().code() == ErrorCode::kNotFound) {
      StopAgents(name, active);
      active.finished = true;
    } else {
      Log("job '" + name + "': " + loaded.error().message());
    }
    return;
  }
  const store::JobRecord& rec = *loaded;
  auto spec = SpecOf(rec);
  if (!spec) {
    // A document we cannot read is this job's failure, not the server's.
    const JobStatus s = rec.state.status;
    if (s == JobStatus::kCancelRequested) {
      Close(name, {s}, JobStatus::kCanceled, "canceled by request", active);
    } else if (!store::IsTerminal(s)) {
      Close(name, {s}, JobStatus::kFailed, spec.error().message(), active);
    } else {
      active.finished = true;
    }
    return;
  }
  switch (rec.state.status) {
    case JobStatus::kNotStarted:
      if (Moved(Move(*options_.store, name, {JobStatus::kNotStarted}, JobStatus::kPreparing), name, "start preparing")) {
        Event(name, "status Preparing");
        StartPreparing(**spec, active);
      }
      return;
    case JobStatus::kPreparing:
      if (!active.preparing) return StartPreparing(**spec, active);
      if (active.preparing->done()) AfterPreparing(**spec, active);
      return;
    case JobStatus::kCancelRequested:
      if (active.preparing && !active.preparing->done()) {
        active.preparing->Cancel();  // closed once the planning has stopped
        return;
      }
      active.preparing.reset();
      return Close(name, {JobStatus::kCancelRequested}, JobStatus::kCanceled, "canceled by request", active);
    case JobStatus::kRunning:
      return Supervise(rec, **spec, active);
    case JobStatus::kFinalizing:
      if (Now() < active.retry_at_ms) return;
      return StartFinalizing(rec, **spec, active);
    case JobStatus::kCompleted:
    case JobStatus::kFailed:
    case JobStatus::kCanceled:
      StopAgents(name, active);
      active.finished = true;
      return;
  }
}

void JobManagerImpl::StartPreparing(const JobSpec& spec, Active& active) {
  auto work = std::make_shared<Work<PlanResult>>();
  active.preparing = work;
  auto shared_spec = std::make_shared<JobSpec>(spec);
  prepare_pool_->Run<PlanResult>(
      work,
      [this, shared_spec](Work<PlanResult>& w) {
        return PrepareJob(*shared_spec, DirOf(shared_spec->name), *options_.store, options_.url_policy, w);
      },
      [this] { Wake(); });
}

void JobManagerImpl::AfterPreparing(const JobSpec& spec, Active& active) {
  auto work = std::move(active.preparing);
  const std::string& name = spec.name;
  if (!work->result()) {
    return Close(name, {JobStatus::kPreparing}, JobStatus::kFailed,
                 "preparing the input failed: " + work->result().error().message(), active);
  }
  store::JobUpdate started;
  started.started_ms = Now();
  if (Moved(Move(*options_.store, name, {JobStatus::kPreparing}, JobStatus::kRunning, started), name,
            "start running")) {
    Event(name, "status Running");
    LaunchAgents(spec, active);
  }
  // Not moved: a cancel came in meanwhile; the next tick closes the job.
}

void JobManagerImpl::StartFinalizing(const store::JobRecord& rec, const JobSpec& spec, Active& active) {
  StopAgents(spec.name, active);
  auto work = std::make_shared<Work<Finalized>>();
  active.closing = work;
  active.closing_from = {JobStatus::kFinalizing};
  auto shared_rec = std::make_shared<store::JobRecord>(rec);
  auto shared_spec = std::make_shared<JobSpec>(spec);
  const int64_t now = Now();
  finalize_pool_->Run<Finalized>(
      work,
      [this, shared_rec, shared_spec, now, early = active.early](Work<Finalized>&) -> Result<Finalized> {
        const std::string& name = shared_spec->name;
        auto f = FinalizeJob(*shared_rec, *shared_spec, DirOf(name), *options_.store, now,
                             early ? early->Take() : std::nullopt);
        if (early && f && f->rows < 0 && f->status != JobStatus::kRunning) {
          // No output was written: the early one goes.
          if (Status st = early->Discard(); !st) Log("job '" + name + "': " + st.error().message());
        }
        return f;
      },
      [this] { Wake(); });
}

void JobManagerImpl::AssembleEarly(const store::JobRecord& rec, const JobSpec& spec, int64_t settled,
                                   Active& active) {
  // A pass at most every 100 ms: a job of many tiny mini-batches is copied
  // in batches, not one commit at a time.
  constexpr int64_t kMinGapMs = 100;
  if (spec.settings.summary_only || !rec.state.output_header || settled == active.early_settled) return;
  if (!active.early) active.early = std::make_shared<EarlyAssembly>(DirOf(spec.name), spec.name, PlaceOf(spec));
  if (!active.early->TryClaim(Now(), kMinGapMs)) return;
  active.early_settled = settled;
  assemble_pool_->Run<bool>(
      std::make_shared<Work<bool>>(),
      [this, early = active.early, header = rec.state.output_header, name = spec.name](Work<bool>&) -> Result<bool> {
        if (Status st = early->Pass(*options_.store, header); !st) Log("job '" + name + "': " + st.error().message());
        return true;
      },
      [this] { Wake(); });
}

void JobManagerImpl::Close(const std::string& name, std::vector<JobStatus> from, JobStatus to,
                           const std::string& why, Active& active) {
  StopAgents(name, active);
  // What was running is canceled, what never started is not run: neither
  // is counted as failed.
  const std::string reason = to == JobStatus::kCanceled ? "canceled" : "job stopped: " + why;
  if (auto stopped = options_.store->StopUnfinished(name, reason); !stopped) {
    Log("job '" + name + "': cannot end its unfinished mini-batches: " + stopped.error().message());
  } else {
    if (stopped->canceled > 0 || stopped->not_run > 0) {
      Event(name, std::to_string(stopped->canceled) + " mini-batches canceled while running, " +
                      std::to_string(stopped->not_run) + " not run");
    }
    if (options_.metrics) options_.metrics->Stopped(stopped->canceled, stopped->not_run);
  }
  auto work = std::make_shared<Work<Finalized>>();
  active.closing = work;
  active.closing_from = std::move(from);
  const int64_t now = Now();
  std::shared_ptr<const JobSpec> spec;  // for the partial output; null when unreadable
  {
    std::lock_guard lock(specs_mu_);
    if (auto it = specs_.find(name); it != specs_.end()) spec = it->second;
  }
  if (!spec) {
    if (auto rec = options_.store->GetJob(name)) {
      if (auto parsed = SpecOf(*rec)) spec = *parsed;
    }
  }
  finalize_pool_->Run<Finalized>(
      work,
      [this, name, spec, to, why, now, early = active.early](Work<Finalized>&) {
        // The early output goes first: on a full disk, its space is what the
        // reports need.
        if (early) {
          if (Status st = early->Discard(); !st) Log("job '" + name + "': " + st.error().message());
        }
        return CloseJobEarly(name, spec.get(), to, why, DirOf(name), *options_.store, now);
      },
      [this] { Wake(); });
}

void JobManagerImpl::AfterClosing(const std::string& name, Active& active) {
  auto work = std::move(active.closing);
  const std::vector<JobStatus> from = std::move(active.closing_from);
  const Result<Finalized>& r = work->result();
  if (!r) {
    // The store or the disk failed: try again later, a little later each time.
    active.failures = std::min(active.failures + 1, 6);
    active.retry_at_ms = Now() + (int64_t{500} << active.failures);
    Event(name, "ending the job failed (will retry): " + r.error().message());
    Log("job '" + name + "': ending the job failed (will retry): " + r.error().message());
    return;
  }
  active.failures = 0;
  const Finalized& f = *r;
  if (f.status == JobStatus::kRunning) {
    // Committed rows were lost: those mini-batches run again.
    auto n = options_.store->RequeueDone(name, f.missing, "its committed rows were lost; running it again");
    if (!n) {
      Log("job '" + name + "': cannot queue lost mini-batches again: " + n.error().message());
      return;
    }
    active.early.reset();  // stopped by the final assembly; the next pass begins afresh
    active.early_settled = -1;
    if (Moved(Move(*options_.store, name, {JobStatus::kFinalizing}, JobStatus::kRunning), name, "run again")) {
      Event(name, std::to_string(*n) + " mini-batches had lost their committed rows and run again");
      Event(name, "status Running");
    }
    return;
  }
  store::JobUpdate update{.error = f.error, .started_ms = std::nullopt, .ended_ms = Now(), .output_rows = std::nullopt};
  if (f.rows >= 0) update.output_rows = f.rows;
  if (!Moved(Move(*options_.store, name, from, f.status, update), name, "record the end")) {
    return;  // another status came first (a cancel): the next tick handles it
  }
  Event(name, "status " + std::string(store::JobStatusName(f.status)) + (f.error.empty() ? "" : ": " + f.error));
  if (f.rows >= 0) {
    std::shared_ptr<const JobSpec> spec;
    {
      std::lock_guard lock(specs_mu_);
      if (auto it = specs_.find(name); it != specs_.end()) spec = it->second;
    }
    if (spec) {
      if (Status st = RemoveAssemblyTemp(PlaceOf(*spec), name); !st) Log("job '" + name + "': " + st.error().message());
    }
  }
  StopAgents(name, active);
  active.finished = true;
  // Only now, with the end recorded: its rows are in the output.
  ReclaimEnded(name);
}

}  // namespace lote::jobs
