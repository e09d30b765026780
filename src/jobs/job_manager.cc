// JobManager: the requests from users (invoke, show, cancel, logs) and from
// agents (config, lease, result, fail).
#include <chrono>

#include "common/util.h"
#include "jobs/invoke_request.h"
#include "jobs/job_builder.h"
#include "jobs/job_manager_impl.h"
#include "jobs/result_batch.h"
#include "storage/safe_path.h"

namespace lote::jobs {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {
// The most mini-batches one lease call hands out.
constexpr int kMaxLeasePerCall = 64;
bool IsTerminal(const std::string& s) { return s == "Completed" || s == "Failed" || s == "Canceled"; }
}  // namespace

Result<std::unique_ptr<JobManager>> JobManager::Create(const JobManagerOptions& options) {
  LOTE_CHECK(options.store && options.registry && options.launcher && options.agent_token);
  std::error_code ec;
  fs::create_directories(options.home.jobs(), ec);
  if (ec) return IoError("cannot create '" + options.home.jobs().string() + "': " + ec.message());
  return std::unique_ptr<JobManager>(new JobManagerImpl(options));
}

JobManagerImpl::JobManagerImpl(JobManagerOptions o) : options_(std::move(o)) {
  if (!options_.now_ms) {
    options_.now_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

void JobManagerImpl::Wake() {
  {
    std::lock_guard lock(wake_mu_);
    woken_ = true;
  }
  wake_cv_.notify_one();
}

Status JobManagerImpl::SetStatus(json& job, const std::string& status, const std::string& error) {
  job["status"] = status;
  if (!error.empty()) job["error"] = error;
  if (status == "Running" && !job.contains("started_at")) job["started_at"] = NowRfc3339();
  if (IsTerminal(status)) job["ended_at"] = NowRfc3339();
  AppendEvent(DirOf(job["name"]), "status " + status + (error.empty() ? "" : ": " + error));
  return options_.store->ReplaceJob(job);
}

json JobManagerImpl::View(const json& job, const store::JobCounters& c) const {
  json v = job;
  int64_t pending = c.tasks_total - c.tasks_done - c.tasks_failed - c.tasks_running;
  json progress = {
      {"mini_batches", {{"total", c.tasks_total}, {"succeeded", c.tasks_done}, {"failed", c.tasks_failed},
                        {"retried", c.tasks_retried}, {"running", c.tasks_running},
                        {"pending", std::max<int64_t>(pending, 0)}}},
      {"items", {{"succeeded", c.items_succeeded}, {"failed", c.items_failed}}}};
  if (job.contains("started_at_ms")) {
    int64_t end = job.contains("ended_at_ms") ? job["ended_at_ms"].get<int64_t>() : options_.now_ms();
    double secs = std::max(0.001, (end - job["started_at_ms"].get<int64_t>()) / 1000.0);
    double mb_per_s = (c.tasks_done + c.tasks_failed) / secs;
    progress["elapsed_s"] = std::round(secs * 1000) / 1000;
    progress["mini_batches_per_s"] = std::round(mb_per_s * 100) / 100;
    progress["items_per_s"] = std::round((c.items_succeeded + c.items_failed) / secs * 100) / 100;
    if (job["status"] == "Running" && mb_per_s > 0) {
      progress["eta_s"] = std::round((pending + c.tasks_running) / mb_per_s * 10) / 10;
    }
  }
  v["progress"] = progress;
  v.erase("runtime");
  v.erase("started_at_ms");
  v.erase("ended_at_ms");
  return v;
}

Result<json> JobManagerImpl::Invoke(const std::string& endpoint, const json& body,
                                    const std::string& deployment_header) {
  LOTE_ASSIGN_OR_RETURN(json request, ParseInvokeRequest(body));
  JobBuildContext ctx{options_.registry, options_.home, options_.base_url, options_.python_runner,
                      options_.default_python, options_.url_policy};
  LOTE_ASSIGN_OR_RETURN(json job, BuildJob(ctx, endpoint, request, deployment_header));
  JobDir dir = DirOf(job["name"]);
  LOTE_TRY(dir.Create());
  // The output folder exists from the start: scripts may write their own
  // files there (AZUREML_BI_OUTPUT_PATH), as on Azure.
  {
    std::error_code ec;
    fs::create_directories(job["output"]["local_dir"].get<std::string>(), ec);
    if (ec) return IoError("cannot create the output folder: " + ec.message());
  }
  // The job runs from its own copy of the code: replacing the deployment
  // meanwhile does not change a running job.
  if (job["runtime"].contains("code_dir") && job["runtime"]["code_dir"].is_string()) {
    std::error_code ec;
    fs::copy(job["runtime"]["code_dir"].get<std::string>(), dir.root / "code",
             fs::copy_options::recursive, ec);
    if (ec) return IoError("cannot copy the deployment's code for the job: " + ec.message());
    job["runtime"]["code_dir"] = (dir.root / "code").string();
    if (job["runtime"].contains("native_library")) {
      job["runtime"]["options"]["library"] =
          (dir.root / "code" / job["runtime"]["native_library"].get<std::string>()).string();
    }
  }
  LOTE_TRY(options_.store->CreateJob(job));
  AppendEvent(dir, "job " + job["name"].get<std::string>() + " created: endpoint " + endpoint +
                       ", deployment " + job["deployment"].get<std::string>() + ", input " +
                       job["input"]["description"].get<std::string>());
  for (const auto& note : job.value("notes", json::array())) AppendEvent(dir, "note: " + note.get<std::string>());
  {
    std::lock_guard lock(active_mu_);
    active_[job["name"]] = Active{};
  }
  Wake();
  return View(job, store::JobCounters{});
}

Result<json> JobManagerImpl::GetJob(const std::string& name) {
  LOTE_ASSIGN_OR_RETURN(json job, options_.store->GetJob(name));
  LOTE_ASSIGN_OR_RETURN(auto c, options_.store->Counters(name));
  return View(job, c);
}

Result<json> JobManagerImpl::ListJobs(const std::string& endpoint) {
  LOTE_ASSIGN_OR_RETURN(auto jobs, options_.store->ListJobs(endpoint));
  json out = json::array();
  for (const json& j : jobs) {
    LOTE_ASSIGN_OR_RETURN(auto c, options_.store->Counters(j["name"]));
    out.push_back(View(j, c));
  }
  return out;
}

Result<json> JobManagerImpl::Cancel(const std::string& name) {
  LOTE_ASSIGN_OR_RETURN(json job, options_.store->GetJob(name));
  std::string s = job["status"];
  if (IsTerminal(s) || s == "Finalizing") {
    return FailedPrecondition("job '" + name + "' is " + s + " and cannot be canceled");
  }
  if (s != "CancelRequested") LOTE_TRY(SetStatus(job, "CancelRequested"));
  Wake();
  return GetJob(name);
}

Result<json> JobManagerImpl::ReadLog(const std::string& name, int64_t offset) {
  LOTE_ASSIGN_OR_RETURN(json job, options_.store->GetJob(name));
  std::string text;
  auto all = ReadFile(DirOf(name).events());
  if (all && offset < static_cast<int64_t>(all->size())) text = all->substr(static_cast<size_t>(std::max<int64_t>(offset, 0)));
  std::string status = job["status"];
  return json{{"text", text},
              {"next_offset", std::max<int64_t>(offset, 0) + static_cast<int64_t>(text.size())},
              {"status", status},
              {"done", IsTerminal(status)}};
}

Result<json> JobManagerImpl::ListFiles(const std::string& name) {
  LOTE_ASSIGN_OR_RETURN(json job, options_.store->GetJob(name));
  json out = {{"output", json::array()}, {"logs", json::array()}};
  std::error_code ec;
  if (fs::exists(job["output"]["local_path"].get<std::string>(), ec) && job["output"].contains("written")) {
    out["output"].push_back(job["output"]["file_name"]);
  }
  fs::path logs = DirOf(name).logs();
  for (auto it = fs::recursive_directory_iterator(logs, ec); !ec && it != fs::end(it); it.increment(ec)) {
    // Files being replaced (".tmp-…") are not listed: they vanish when renamed.
    if (it->is_regular_file() && it->path().filename().string().find(".tmp-") == std::string::npos) {
      out["logs"].push_back("logs/" + fs::relative(it->path(), logs).generic_string());
    }
  }
  return out;
}

Result<fs::path> JobManagerImpl::FilePath(const std::string& name, const std::string& rel) {
  LOTE_ASSIGN_OR_RETURN(json job, options_.store->GetJob(name));
  if (rel == job["output"]["file_name"]) {
    if (!job["output"].contains("written")) return NotFound("job '" + name + "' has written no output");
    return fs::path(job["output"]["local_path"].get<std::string>());
  }
  if (!rel.starts_with("logs/")) return NotFound("job '" + name + "' has no file '" + rel + "'");
  return storage::SafeJoin(DirOf(name).root, rel);
}

Result<json> JobManagerImpl::AgentConfig(const std::string& name) {
  LOTE_ASSIGN_OR_RETURN(json job, options_.store->GetJob(name));
  const json& s = job["settings"];
  return json{{"job", name},
              {"status", job["status"]},
              {"runtime", job["runtime"]},
              {"settings", {{"max_concurrency_per_instance", s["max_concurrency_per_instance"]},
                            {"timeout_s", s["timeout_s"]},
                            {"max_retries", s["max_retries"]},
                            {"logging_level", s["logging_level"]},
                            {"environment_variables", s["environment_variables"]}}},
              {"output_dir", job["output"]["local_dir"]},
              {"log_dir", DirOf(name).logs().string()}};
}

Result<json> JobManagerImpl::Lease(const std::string& name, const std::string& worker, int max) {
  LOTE_ASSIGN_OR_RETURN(json job, options_.store->GetJob(name));
  std::string s = job["status"];
  if (s != "Running" && s != "Preparing" && s != "NotStarted") {
    return json{{"state", "finished"}, {"tasks", json::array()}};
  }
  json tasks = json::array();
  const int64_t lease_ms = (job["settings"]["timeout_s"].get<int64_t>() + 60) * 1000;
  if (s == "Running") {
    // An agent asks for as many as it can run in a short while; each gets at
    // most its share of what is pending (half of it split over every worker
    // slot), so the last mini-batches are not queued behind one slow worker.
    const json& st = job["settings"];
    const int64_t slots = std::max<int64_t>(
        1, st["instance_count"].get<int64_t>() * st["max_concurrency_per_instance"].get<int64_t>());
    int want = std::clamp(max, 1, kMaxLeasePerCall);
    std::lock_guard lock(tasks_mu_);
    LOTE_ASSIGN_OR_RETURN(auto c, options_.store->Counters(name));
    const int64_t pending = c.tasks_total - c.tasks_done - c.tasks_failed - c.tasks_running;
    want = static_cast<int>(std::clamp<int64_t>(pending / (2 * slots), 1, want));
    LOTE_ASSIGN_OR_RETURN(auto leased, options_.store->LeaseTasks(name, want, worker,
                                                                  lease_ms, options_.now_ms()));
    for (const auto& t : leased) {
      tasks.push_back({{"id", t.id}, {"lease", t.lease}, {"attempt", t.attempts}, {"items", t.items}});
    }
  }
  return json{{"state", "running"}, {"tasks", tasks}, {"lease_ms", lease_ms}};
}

Result<fs::path> JobManagerImpl::StagingPath(const std::string& job) {
  LOTE_TRY(options_.store->GetJob(job));
  return DirOf(job).staging() / ("incoming-" + RandomHex(8));
}

Result<json> JobManagerImpl::CommitResults(const std::string& name, const fs::path& staged) {
  std::error_code ec;
  auto job = options_.store->GetJob(name);
  if (!job) {
    fs::remove(staged, ec);
    return job.error();
  }
  auto batch = ReadResultBatch(staged);
  if (!batch) {
    fs::remove(staged, ec);
    return batch.error();
  }
  // Rows first, then the task rows: a crash in between leaves the tasks
  // leased, and their retries write other files.
  JobDir dir = DirOf(name);
  const std::string part = "batch-" + RandomHex(8) + ".rows";
  fs::rename(staged, dir.results() / part, ec);
  if (ec) {
    fs::remove(staged, ec);
    return IoError("cannot store the rows of " + std::to_string(batch->results.size()) +
                   " mini-batches: " + ec.message());
  }
  std::vector<store::TaskCommit> commits;
  commits.reserve(batch->results.size());
  for (const BatchedResult& r : batch->results) {
    store::TaskReport report{.lease = r.lease,
                             .ok = true,
                             .succeeded = r.succeeded,
                             .failed = r.failed,
                             .worker = batch->worker,
                             .started_ms = r.started_ms,
                             .elapsed_ms = r.elapsed_ms,
                             .error = "",
                             .outcome = "RUN_DONE",
                             .part = part,
                             .part_offset = static_cast<int64_t>(r.offset),
                             .part_length = static_cast<int64_t>(r.bytes),
                             .header = r.header.value_or("")};
    commits.push_back({r.task, std::move(report)});
  }
  std::vector<bool> accepted;
  {
    std::lock_guard lock(tasks_mu_);
    LOTE_ASSIGN_OR_RETURN(accepted, options_.store->FinishTasks(name, commits, (*job)["settings"]["max_retries"].get<int>()));
  }
  json out = {{"accepted", json::array()}, {"dropped", json::array()}};
  const bool debug = (*job)["settings"]["logging_level"] == "debug";
  for (size_t i = 0; i < commits.size(); ++i) {
    const BatchedResult& r = batch->results[i];
    if (!accepted[i]) {
      out["dropped"].push_back({{"task", r.task},
                                {"reason", "mini-batch " + std::to_string(r.task) + " is no longer leased to " +
                                               batch->worker + "; its result was dropped"}});
      continue;
    }
    out["accepted"].push_back(r.task);
    if (debug) {
      AppendEvent(dir, "mini-batch " + std::to_string(r.task) + " done by " + batch->worker + ": " +
                           std::to_string(r.succeeded) + " succeeded, " + std::to_string(r.failed) + " failed");
    }
  }
  if (out["accepted"].empty()) fs::remove(dir.results() / part, ec);
  Wake();
  return out;
}

Result<json> JobManagerImpl::ReleaseTasks(const std::string& name, const json& body) {
  LOTE_TRY(options_.store->GetJob(name));
  auto list = body.find("tasks");
  if (list == body.end() || !list->is_array()) return InvalidArgument("release: needs \"tasks\": [{\"id\", \"lease\"}, …]", "tasks");
  std::vector<std::pair<int64_t, std::string>> leases;
  for (const json& t : *list) {
    if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("lease") ||
        !t["lease"].is_string()) {
      return InvalidArgument("release: each task needs an integer id and a string lease", "tasks");
    }
    leases.emplace_back(t["id"].get<int64_t>(), t["lease"].get<std::string>());
  }
  int n = 0;
  {
    std::lock_guard lock(tasks_mu_);
    LOTE_ASSIGN_OR_RETURN(n, options_.store->ReleaseTasks(name, leases));
  }
  return json{{"released", n}};
}

Result<json> JobManagerImpl::FailAttempt(const std::string& name, int64_t task, const AttemptReport& r) {
  LOTE_ASSIGN_OR_RETURN(json job, options_.store->GetJob(name));
  int max_retries = job["settings"]["max_retries"];
  store::Task t;
  {
    std::lock_guard lock(tasks_mu_);
    store::TaskReport report;
    report.lease = r.lease;
    report.worker = r.worker;
    report.started_ms = r.started_ms;
    report.elapsed_ms = r.elapsed_ms;
    report.error = r.error;
    report.outcome = r.outcome;
    LOTE_ASSIGN_OR_RETURN(t, options_.store->FinishTask(name, task, report, max_retries));
  }
  std::string what = t.status == "pending" ? "will be retried" : "failed for good";
  AppendEvent(DirOf(name), "mini-batch " + std::to_string(task) + " attempt " + std::to_string(t.attempts) +
                               " on " + r.worker + " " + r.outcome + ": " + r.error + " (" + what + ")");
  Wake();
  return json{{"accepted", true}, {"status", t.status}};
}

}  // namespace lote::jobs
