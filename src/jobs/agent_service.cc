// JobManager: what agents call (docs/agent-api.md): their config, leases of
// mini-batches, batches of results, hand-backs and failed attempts. Every
// task change is one store transaction that checks the lease, so a late or
// repeated answer never counts twice.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "artifacts/manifest.h"
#include "common/fs_name.h"
#include "common/util.h"
#include "jobs/job_manager_impl.h"
#include "jobs/result_batch.h"

namespace lote::jobs {

using nlohmann::json;
using store::JobStatus;
namespace fs = std::filesystem;

namespace {

// The most mini-batches one lease call hands out.
constexpr int kMaxLeasePerCall = 64;

bool IsStorageFailure(const std::error_code& ec) {
  return ec == std::errc::no_space_on_device || ec == std::errc::io_error ||
         ec == std::errc::read_only_file_system || ec.value() == EDQUOT;
}

}  // namespace

Result<json> JobManagerImpl::AgentConfig(const std::string& name) {
  LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(name));
  LOTE_ASSIGN_OR_RETURN(auto spec, SpecOf(rec));
  const JobSettings& s = spec->settings;
  const json& doc = spec->doc;
  json settings_doc = doc.value("settings", json::object());
  json config = {{"job", name},
                 {"status", std::string(store::JobStatusName(rec.state.status))},
                 {"access", AccessModeName(spec->access.artifacts)},
                 {"input_access", AccessModeName(spec->access.inputs)},
                 {"runtime", doc.value("runtime", json::object())},
                 {"settings", {{"max_concurrency_per_instance", s.max_concurrency_per_instance},
                               {"timeout_s", s.timeout_s},
                               {"max_retries", s.max_retries},
                               {"logging_level", s.logging_level},
                               {"environment_variables",
                                settings_doc.value("environment_variables", json::object())}}},
                 {"output_dir", spec->output.local_dir},
                 {"log_dir", DirOf(name).logs().string()},
                 // Where a local agent may write its batches of results (results by file).
                 {"results_dir", DirOf(name).staging().string()}};
  if (spec->access.artifacts == AccessMode::kDirect) return config;
  // Remote: no path of this host's disk; the model, code and runner are
  // named by their trees' hashes (GET …/artifacts lists their files).
  LOTE_ASSIGN_OR_RETURN(auto artifacts, ArtifactsOf(*spec));
  json& runtime = config["runtime"];
  for (const char* key : {"runner", "model_dir", "code_dir"}) runtime.erase(key);
  if (auto lib = runtime.find("native_library"); lib != runtime.end() && lib->is_string()) {
    runtime["options"]["library"] = *lib;  // relative: the plugin loader finds it in the code folder
  }
  json refs = json::object();
  for (const char* tree : {artifacts::kModelTree, artifacts::kCodeTree, artifacts::kRunnerTree}) {
    const artifacts::Tree* t = artifacts->Find(tree);
    refs[tree] = t != nullptr ? artifacts::TreeRef(*t) : json();
  }
  config["artifacts"] = std::move(refs);
  config["output_dir"] = nullptr;
  config["log_dir"] = nullptr;
  config["results_dir"] = nullptr;
  return config;
}

namespace {

// A leased item as a remote agent sees it: its file's base name (a byte
// field) and, for a range item, the range and header (for a Parquet
// row-group item, its row groups and the spans of the file they need, which
// the agent fetches into a sparse file); no path of this host.
json RemoteItem(const json& item) {
  json out = json::object();
  auto path = ItemPath(item);
  std::string raw = path ? *path : ItemDisplayPath(item);
  size_t slash = raw.rfind('/');
  SetBytesField(out, "name", slash == std::string::npos ? raw : raw.substr(slash + 1));
  for (const char* key : {"offset", "length", "header", "header_b64", "first_row", "first_line", "row_group",
                          "row_groups", "file_size", "spans"}) {
    if (auto it = item.find(key); it != item.end()) out[key] = *it;
  }
  return out;
}

// A result's item errors as the store keeps them with its task.
json ItemErrorsJson(const std::vector<ItemError>& errors) {
  json out = json::array();
  for (const ItemError& e : errors) {
    json j = {{"item", e.item}, {"error", e.error}};
    if (e.row) j["row"] = *e.row;
    if (e.column) j["column"] = *e.column;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

Result<json> JobManagerImpl::Lease(const std::string& name, const std::string& worker, int max) {
  LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(name));
  const JobStatus s = rec.state.status;
  if (s != JobStatus::kRunning && s != JobStatus::kPreparing && s != JobStatus::kNotStarted) {
    return json{{"state", "finished"}, {"tasks", json::array()}};
  }
  LOTE_ASSIGN_OR_RETURN(auto spec, SpecOf(rec));
  const JobSettings& st = spec->settings;
  json tasks = json::array();
  const int64_t lease_ms = (static_cast<int64_t>(st.timeout_s) + 60) * 1000;
  if (s == JobStatus::kRunning) {
    // An agent asks for as many as it can run in a short while; each gets at
    // most its share of what is pending (half of it split over every worker
    // slot), so the last mini-batches are not queued behind one slow worker.
    const int64_t slots = std::max<int64_t>(1, int64_t{st.instance_count} * st.max_concurrency_per_instance);
    const store::JobCounters& c = rec.counters;
    const int64_t pending = c.tasks_total - c.tasks_done - c.tasks_failed - c.tasks_running;
    int want = std::clamp(max, 1, kMaxLeasePerCall);
    want = static_cast<int>(std::clamp<int64_t>(pending / (2 * slots), 1, want));
    LOTE_ASSIGN_OR_RETURN(auto leased, options_.store->LeaseTasks(name, want, worker, lease_ms, Now()));
    const bool remote = spec->access.inputs == AccessMode::kRemote;
    for (const auto& t : leased) {
      json items = t.items;
      if (remote && items.is_array()) {
        // Fetched through GET …/tasks/{id}/items/{index}?lease=…
        for (json& item : items) item = RemoteItem(item);
      }
      tasks.push_back({{"id", t.id}, {"lease", t.lease}, {"attempt", t.attempts}, {"items", std::move(items)}});
    }
  }
  return json{{"state", "running"}, {"tasks", tasks}, {"lease_ms", lease_ms}};
}

Result<fs::path> JobManagerImpl::StagingPath(const std::string& job) {
  LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(job));
  if (store::IsTerminal(rec.state.status)) {
    // Its staging and results folders are given back once it ended.
    return FailedPrecondition("job '" + job + "' is " + std::string(store::JobStatusName(rec.state.status)) +
                              ": it takes no more results");
  }
  return DirOf(job).staging() / ("incoming-" + RandomHex(8));
}

Result<json> JobManagerImpl::CommitResults(const std::string& name, const fs::path& staged) {
  std::error_code ec;
  struct RemoveStaged {
    const fs::path& path;
    ~RemoveStaged() {
      std::error_code ignored;
      fs::remove(path, ignored);  // gone already once renamed into results/
    }
  } remove_staged{staged};
  LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(name));
  LOTE_ASSIGN_OR_RETURN(auto spec, SpecOf(rec));
  LOTE_ASSIGN_OR_RETURN(ResultBatch batch, ReadResultBatch(staged));
  // Rows first, then the task rows: a crash in between leaves the tasks
  // leased, and their retries write other files.
  JobDir dir = DirOf(name);
  const std::string part = "batch-" + RandomHex(8) + ".rows";
  fs::rename(staged, dir.results() / part, ec);
  if (ec) {
    Error e = IoError("cannot store the rows of " + std::to_string(batch.results.size()) + " mini-batches in '" +
                      dir.results().string() + "': " + ec.message());
    if (IsStorageFailure(ec)) ReportStorageError(name, e);
    return e;
  }
  std::vector<store::TaskCommit> commits;
  commits.reserve(batch.results.size());
  for (const BatchedResult& r : batch.results) {
    store::TaskReport report{.lease = r.lease,
                             .ok = true,
                             .succeeded = r.succeeded,
                             .failed = r.failed,
                             .worker = batch.worker,
                             .started_ms = r.started_ms,
                             .elapsed_ms = r.elapsed_ms,
                             .error = "",
                             .outcome = "RUN_DONE",
                             .part = part,
                             .part_offset = static_cast<int64_t>(r.offset),
                             .part_length = static_cast<int64_t>(r.bytes),
                             .header = r.header.value_or(""),
                             .item_errors = ItemErrorsJson(r.item_errors)};
    commits.push_back({r.task, std::move(report)});
  }
  auto outcomes = options_.store->FinishTasks(name, commits, spec->settings.max_retries);
  if (!outcomes) {
    fs::remove(dir.results() / part, ec);
    return outcomes.error();
  }
  json out = {{"accepted", json::array()}, {"dropped", json::array()}};
  const bool debug = spec->settings.logging_level == "debug";
  for (size_t i = 0; i < commits.size(); ++i) {
    const BatchedResult& r = batch.results[i];
    const std::string mb = "mini-batch " + std::to_string(r.task);
    switch ((*outcomes)[i]) {
      case store::CommitOutcome::kStaleLease:
        out["dropped"].push_back({{"task", r.task},
                                  {"reason", mb + " is no longer leased to " + batch.worker + "; its result was dropped"}});
        break;
      case store::CommitOutcome::kHeaderMismatch: {
        if (options_.metrics) options_.metrics->MiniBatch("failed", static_cast<double>(r.elapsed_ms) / 1000.0);
        auto t = options_.store->GetTask(name, r.task);
        std::string why = t ? t->error : "its output columns differ from the output's";
        out["dropped"].push_back({{"task", r.task}, {"reason", mb + " failed: " + why}});
        AppendEvent(dir, mb + " on " + batch.worker + " RUN_HEADER_MISMATCH: " + why + " (failed for good)");
        break;
      }
      case store::CommitOutcome::kAccepted:
        out["accepted"].push_back(r.task);
        if (options_.metrics) {
          options_.metrics->MiniBatch("succeeded", static_cast<double>(r.elapsed_ms) / 1000.0);
          options_.metrics->Items(r.succeeded, r.failed);
        }
        if (debug) {
          AppendEvent(dir, mb + " done by " + batch.worker + ": " + std::to_string(r.succeeded) + " succeeded, " +
                               std::to_string(r.failed) + " failed");
        }
        break;
    }
  }
  if (out["accepted"].empty()) fs::remove(dir.results() / part, ec);
  Wake();
  return out;
}

Result<json> JobManagerImpl::ReleaseTasks(const std::string& name, const json& body) {
  LOTE_TRY(options_.store->GetJob(name));
  auto list = body.find("tasks");
  if (list == body.end() || !list->is_array()) {
    return InvalidArgument("release: needs \"tasks\": [{\"id\", \"lease\"}, …]", "tasks");
  }
  std::vector<std::pair<int64_t, std::string>> leases;
  for (const json& t : *list) {
    if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("lease") ||
        !t["lease"].is_string()) {
      return InvalidArgument("release: each task needs an integer id and a string lease", "tasks");
    }
    leases.emplace_back(t["id"].get<int64_t>(), t["lease"].get<std::string>());
  }
  LOTE_ASSIGN_OR_RETURN(int n, options_.store->ReleaseTasks(name, leases));
  return json{{"released", n}};
}

Result<json> JobManagerImpl::FailAttempt(const std::string& name, int64_t task, const AttemptReport& r) {
  LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(name));
  LOTE_ASSIGN_OR_RETURN(auto spec, SpecOf(rec));
  store::TaskReport report;
  report.lease = r.lease;
  report.worker = r.worker;
  report.started_ms = r.started_ms;
  report.elapsed_ms = r.elapsed_ms;
  report.error = r.error;
  report.outcome = r.outcome;
  LOTE_ASSIGN_OR_RETURN(store::Task t, options_.store->FinishTask(name, task, report, spec->settings.max_retries));
  std::string what = t.status == store::TaskStatus::kPending ? "will be retried" : "failed for good";
  if (options_.metrics) {
    options_.metrics->MiniBatch(t.status == store::TaskStatus::kPending ? "retried" : "failed",
                                r.elapsed_ms > 0 ? static_cast<double>(r.elapsed_ms) / 1000.0 : -1);
  }
  Event(name, "mini-batch " + std::to_string(task) + " attempt " + std::to_string(t.attempts) + " on " +
                               r.worker + " " + r.outcome + ": " + r.error + " (" + what + ")");
  Wake();
  return json{{"accepted", true}, {"status", std::string(store::TaskStatusName(t.status))}};
}

void JobManagerImpl::ReportStorageError(const std::string& job, const Error& error) {
  {
    std::lock_guard lock(storage_mu_);
    storage_errors_.emplace(job, error.message());  // the first one is kept
  }
  Wake();
}

std::optional<std::string> JobManagerImpl::TakeStorageError(const std::string& job) {
  std::lock_guard lock(storage_mu_);
  auto it = storage_errors_.find(job);
  if (it == storage_errors_.end()) return std::nullopt;
  std::string e = std::move(it->second);
  storage_errors_.erase(it);
  return e;
}

}  // namespace lote::jobs
