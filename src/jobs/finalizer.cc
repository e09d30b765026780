#include "jobs/finalizer.h"

#include <cstdio>

#include "jobs/job_reports.h"
#include "jobs/job_view.h"
#include "jobs/output_assembly.h"

namespace lote::jobs {

namespace fs = std::filesystem;

namespace {

// Results files are synced once, here, rather than at each commit: a crash
// of the server loses nothing the kernel holds, and rows lost to a power cut
// are found missing by the assembly and run again. A job with many results
// files syncs their filesystem in one call (syncfs) rather than each file.
Status SyncResults(const JobDir& dir) {
  constexpr int kSyncEachUpTo = 32;
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir.results(), ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) files.push_back(it->path());
    if (files.size() > kSyncEachUpTo) break;
  }
  if (ec) return IoError("cannot list '" + dir.results().string() + "': " + ec.message());
  if (files.size() > kSyncEachUpTo) return SyncFilesystem(dir.results());
  for (const fs::path& f : files) LOTE_TRY(SyncPath(f));
  return SyncPath(dir.results());
}

// The reports, as the job will be once `f` is recorded. A report that cannot
// be written does not change the outcome; it is logged.
void WriteReports(const std::string& job, const Finalized& f, const JobDir& dir, store::JobStore& store,
                  int64_t now_ms) {
  auto rec = store.GetJob(job);
  if (!rec) {
    AppendEvent(dir, "cannot write the final reports: " + rec.error().message());
    return;
  }
  rec->state.status = f.status;
  rec->state.error = f.error;
  rec->state.ended_ms = now_ms;
  rec->state.output_rows = f.rows;
  nlohmann::json view = JobView(*rec, now_ms);
  for (Status st : {WriteProgressOverview(dir, view), WriteFinalReports(dir, view, store)}) {
    if (!st) AppendEvent(dir, "cannot write the final reports: " + st.error().message());
  }
}

std::string NoItemSucceeded(const store::JobCounters& c, store::JobStore& store, const std::string& job) {
  std::string why = "no item succeeded (" + std::to_string(c.items_failed) + " failed)";
  auto first = FirstFailures(store, job, 1);
  if (first && !first->empty()) why += "; first failure: " + first->front();
  return why + "; see logs/job_result.txt and logs/sys/job_report/processed_mini-batches.csv";
}

}  // namespace

OutputPlace PlaceOf(const JobSpec& spec) {
  return OutputPlace{.dest = spec.output.local_path,
                     .root = spec.output.root,
                     .rel_dir = spec.output.rel_dir,
                     .format = spec.settings.output_format};
}

Result<Finalized> FinalizeJob(const store::JobRecord& job, const JobSpec& spec, const JobDir& dir,
                              store::JobStore& store, int64_t now_ms, std::optional<AssemblyCursor> early) {
  LOTE_ASSIGN_OR_RETURN(store::JobCounters c, store.Counters(spec.name));
  Finalized f;
  f.status = store::JobStatus::kCompleted;
  if (c.items_succeeded == 0 && c.items_failed > 0) {
    f.status = store::JobStatus::kFailed;
    f.error = NoItemSucceeded(c, store, spec.name);
  } else if (!spec.settings.summary_only) {
    if (Status st = SyncResults(dir); !st) {
      f.status = store::JobStatus::kFailed;
      f.error = "storing the results failed: " + st.error().message();
    } else {
      auto out = AssembleOutput(dir, spec.name, store, PlaceOf(spec), job.state.output_header, std::move(early));
      if (!out) {
        f.status = store::JobStatus::kFailed;
        f.error = "writing the output failed: " + out.error().message();
      } else if (!out->missing.empty()) {
        f.status = store::JobStatus::kRunning;
        f.missing = out->missing;
        return f;  // no reports: the job goes on
      } else {
        f.rows = out->rows;
      }
    }
  }
  if (f.status == store::JobStatus::kCompleted) {
    if (c.items_succeeded == 0) {
      AppendEvent(dir, "the input held no items to score (" + std::to_string(c.tasks_total) +
                           " mini-batches, e.g. CSV files with only a header); the output is empty");
    } else if (f.rows >= 0) {
      AppendEvent(dir, "wrote " + std::to_string(f.rows) + " results to " + spec.output.uri);
    }
  }
  WriteReports(spec.name, f, dir, store, now_ms);
  return f;
}

std::string PartialOutputName(const std::string& file_name) {
  size_t dot = file_name.rfind('.');
  if (dot == std::string::npos || dot == 0) return file_name + ".partial";
  return file_name.substr(0, dot) + ".partial" + file_name.substr(dot);
}

namespace {

// The committed rows of a job that stops early, into the partial output.
// A failure here never changes how the job ends: it is said in the log.
void WritePartialOutput(const std::string& job, const JobSpec& spec, const JobDir& dir, store::JobStore& store) {
  if (spec.settings.summary_only) return;
  auto c = store.Counters(job);
  if (!c) {
    AppendEvent(dir, "cannot write the partial output: " + c.error().message());
    return;
  }
  if (c->tasks_done == 0) return;  // nothing was committed
  auto rec = store.GetJob(job);
  if (!rec) {
    AppendEvent(dir, "cannot write the partial output: " + rec.error().message());
    return;
  }
  OutputPlace place = PlaceOf(spec);
  const std::string name = PartialOutputName(place.dest.filename().string());
  place.dest = place.dest.parent_path() / name;
  if (Status st = SyncResults(dir); !st) {
    AppendEvent(dir, "cannot write the partial output: " + st.error().message());
    return;
  }
  auto out = AssembleOutput(dir, job, store, place, rec->state.output_header);
  if (!out) {
    // A half-written copy must not hold the space (a full disk is one way
    // a job fails): the partial output is a courtesy, never a cost.
    if (Status st = RemoveAssemblyTemp(place, job); !st) AppendEvent(dir, st.error().message());
    AppendEvent(dir, "cannot write the partial output: " + out.error().message());
    return;
  }
  if (Status st = RemoveAssemblyTemp(place, job); !st) AppendEvent(dir, st.error().message());
  std::string uri = spec.output.uri;
  if (size_t slash = uri.rfind('/'); slash != std::string::npos) uri = uri.substr(0, slash + 1) + name;
  if (!out->missing.empty()) {
    AppendEvent(dir, "the partial output leaves out " + std::to_string(out->missing.size()) +
                         " done mini-batches whose committed rows were lost");
  }
  AppendEvent(dir, "wrote the " + std::to_string(out->rows) + " rows committed before the job ended to " + uri);
}

}  // namespace

Result<Finalized> CloseJobEarly(const std::string& job, const JobSpec* spec, store::JobStatus status,
                                const std::string& why, const JobDir& dir, store::JobStore& store,
                                int64_t now_ms) {
  Finalized f{.status = status, .error = why, .rows = -1, .missing = {}};
  // The reports first: they say why the job ended, whatever the partial
  // output then meets (a full disk).
  WriteReports(job, f, dir, store, now_ms);
  if (spec != nullptr) WritePartialOutput(job, *spec, dir, store);
  return f;
}

}  // namespace lote::jobs
