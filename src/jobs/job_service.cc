// JobManager: what users call (invoke, show, list, cancel, logs, files). These
// run on REST threads: they read and record, and never wait on a remote host
// or on the scheduler.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "common/util.h"
#include "jobs/invoke_request.h"
#include "jobs/job_builder.h"
#include "jobs/job_manager_impl.h"
#include "jobs/finalizer.h"
#include "jobs/job_outputs.h"
#include "jobs/job_state.h"
#include "jobs/job_view.h"
#include "jobs/output_assembly.h"
#include "storage/safe_path.h"

namespace lote::jobs {

using nlohmann::json;
using store::JobStatus;
namespace fs = std::filesystem;

namespace {
// The most of the event log one ReadLog answer carries.
constexpr int64_t kMaxLogChunk = 1 << 20;
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

Result<std::shared_ptr<const JobSpec>> JobManagerImpl::SpecOf(const store::JobRecord& rec) {
  const std::string name = rec.name();
  {
    std::lock_guard lock(specs_mu_);
    auto it = specs_.find(name);
    if (it != specs_.end()) return it->second;
  }
  auto spec = ParseJobSpec(rec.spec);
  if (!spec) return spec.error().WithContext("job '" + name + "'");
  auto shared = std::make_shared<const JobSpec>(std::move(*spec));
  std::lock_guard lock(specs_mu_);
  specs_.emplace(name, shared);
  return shared;
}

Result<json> JobManagerImpl::Invoke(const std::string& endpoint, const json& body,
                                    const std::string& deployment_header) {
  LOTE_ASSIGN_OR_RETURN(json request, ParseInvokeRequest(body));
  if (request.contains("name")) {  // a chosen name (az's --job-name): refused before anything is made
    const std::string wanted = request["name"];
    if (options_.store->GetJob(wanted)) {
      return AlreadyExists("job '" + wanted + "' already exists: choose another --job-name", "name");
    }
  }
  JobBuildContext ctx{options_.registry, options_.home, options_.base_url, options_.python_runner,
                      options_.default_python, options_.url_policy};
  LOTE_ASSIGN_OR_RETURN(json job, BuildJob(ctx, endpoint, request, deployment_header));
  LOTE_ASSIGN_OR_RETURN(JobSpec spec, ParseJobSpec(job));
  JobDir dir = DirOf(spec.name);
  // The job's folder is made exclusively: two invokes racing for one chosen
  // name never share it (the loser is refused here, before it writes).
  {
    std::error_code ec;
    fs::create_directories(dir.root.parent_path(), ec);
    if (!fs::create_directory(dir.root, ec)) {
      if (ec) return IoError("cannot create the job folder '" + dir.root.string() + "': " + ec.message());
      return AlreadyExists("job '" + spec.name + "' already exists: choose another --job-name", "name");
    }
  }
  LOTE_TRY(dir.Create());
  // The output folder exists from the start: scripts may write their own
  // files there (AZUREML_BI_OUTPUT_PATH), as on Azure.
  {
    std::error_code ec;
    fs::create_directories(spec.output.local_dir, ec);
    if (ec) return IoError("cannot create the output folder: " + ec.message());
  }
  // The job runs from its own copy of the code: replacing the deployment
  // meanwhile does not change a running job.
  if (job["runtime"].contains("code_dir") && job["runtime"]["code_dir"].is_string()) {
    std::error_code ec;
    fs::copy(job["runtime"]["code_dir"].get<std::string>(), dir.root / "code", fs::copy_options::recursive, ec);
    if (ec) return IoError("cannot copy the deployment's code for the job: " + ec.message());
    job["runtime"]["code_dir"] = (dir.root / "code").string();
    if (job["runtime"].contains("native_library") && job["runtime"]["native_library"].is_string()) {
      job["runtime"]["options"]["library"] =
          (dir.root / "code" / job["runtime"]["native_library"].get<std::string>()).string();
    }
  }
  LOTE_TRY(options_.store->CreateJob(job));
  Event(spec.name, "job " + spec.name + " created: endpoint " + endpoint + ", deployment " + spec.deployment +
                       ", input " + spec.input.description);
  if (auto notes = job.find("notes"); notes != job.end() && notes->is_array()) {
    for (const auto& note : *notes) {
      if (note.is_string()) Event(spec.name, "note: " + note.get<std::string>());
    }
  }
  {
    std::lock_guard lock(active_mu_);
    active_[spec.name] = Active{};
  }
  Wake();
  return GetJob(spec.name);
}

Result<json> JobManagerImpl::GetJob(const std::string& name) {
  LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(name));
  json view = JobView(rec, Now());
  // What the job's scripts wrote beside (or instead of) the predictions, and
  // the interpreter its Python workers reported.
  if (auto spec = SpecOf(rec)) {
    OutputListing listing = ListOutputFiles(**spec, rec.state.output_rows >= 0);
    if (view.contains("output") && view["output"].is_object()) {
      view["output"]["files"] = OutputFilesJson(listing);
      if (listing.truncated) view["output"]["files_truncated"] = true;
      // A job that ended early: where the rows it committed went.
      const std::string partial = PartialOutputName((*spec)->output.file_name);
      const bool ended_early = rec.state.status == store::JobStatus::kCanceled ||
                               rec.state.status == store::JobStatus::kFailed;
      for (const OutputFile& f : listing.files) {
        if (!ended_early || f.name != partial) continue;
        std::string uri = (*spec)->output.uri;
        if (size_t slash = uri.rfind('/'); slash != std::string::npos) uri = uri.substr(0, slash + 1) + partial;
        view["output"]["partial"] = {{"file_name", partial}, {"uri", uri}, {"bytes", f.size},
                                     {"local_path", (fs::path((*spec)->output.local_dir) / partial).string()}};
      }
    }
  }
  if (view.contains("interpreter") && view["interpreter"].is_object()) {
    json ran = InterpretersRan(DirOf(name).logs());
    if (!ran.empty()) {
      view["interpreter"]["ran"] = ran;
      if (ran[0].contains("version")) view["interpreter"]["version"] = ran[0]["version"];
      if (ran[0].contains("path")) view["interpreter"]["path"] = ran[0]["path"];
    }
  }
  // Where its agents run (while this server runs it, or ran it).
  std::lock_guard lock(agents_mu_);
  if (auto it = agents_.find(name); it != agents_.end()) view["agents"] = it->second;
  return WithAzureShape(std::move(view), options_.base_url);
}

void JobManagerImpl::Event(const std::string& job, const std::string& line) const {
  AppendEvent(DirOf(job), line);
  if (options_.log) options_.log->Info("job", "job=" + job + " " + line);
}

Result<std::map<std::string, int64_t>> JobManagerImpl::JobsByStatus() {
  LOTE_ASSIGN_OR_RETURN(auto jobs, options_.store->ListJobs(""));
  std::map<std::string, int64_t> out;
  for (auto s : {store::JobStatus::kNotStarted, store::JobStatus::kPreparing, store::JobStatus::kRunning,
                 store::JobStatus::kFinalizing, store::JobStatus::kCompleted, store::JobStatus::kFailed,
                 store::JobStatus::kCanceled}) {
    out[std::string(store::JobStatusName(s))] = 0;  // every status, so a gauge never vanishes
  }
  for (const auto& j : jobs) ++out[std::string(store::JobStatusName(j.state.status))];
  return out;
}

Result<json> JobManagerImpl::ListJobs(const std::string& endpoint) {
  LOTE_ASSIGN_OR_RETURN(auto jobs, options_.store->ListJobs(endpoint));
  json out = json::array();
  const int64_t now = Now();
  for (const store::JobRecord& r : jobs) out.push_back(WithAzureShape(JobView(r, now), options_.base_url));
  return out;
}

Result<json> JobManagerImpl::Cancel(const std::string& name) {
  LOTE_ASSIGN_OR_RETURN(bool moved, Move(*options_.store, name, kCancellable, JobStatus::kCancelRequested));
  if (!moved) {
    LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(name));
    if (rec.state.status != JobStatus::kCancelRequested) {
      return FailedPrecondition("job '" + name + "' is " + std::string(store::JobStatusName(rec.state.status)) +
                                " and cannot be canceled");
    }
  } else {
    Event(name, "status CancelRequested");
  }
  Wake();
  return GetJob(name);
}

Result<json> JobManagerImpl::ReadLog(const std::string& name, int64_t offset) {
  LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(name));
  offset = std::max<int64_t>(offset, 0);
  std::string text;
  int fd = ::open(DirOf(name).events().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > offset) {
      text.resize(static_cast<size_t>(std::min<int64_t>(st.st_size - offset, kMaxLogChunk)));
      ssize_t n = ::pread(fd, text.data(), text.size(), offset);
      text.resize(n > 0 ? static_cast<size_t>(n) : 0);
    }
    ::close(fd);
  }
  // Whole lines only, unless one line alone is over the chunk.
  if (size_t nl = text.rfind('\n'); nl != std::string::npos) text.resize(nl + 1);
  const bool terminal = store::IsTerminal(rec.state.status);
  return json{{"text", text},
              {"next_offset", offset + static_cast<int64_t>(text.size())},
              {"status", std::string(store::JobStatusName(rec.state.status))},
              // Done once the end of the log of an ended job has been read.
              {"done", terminal && static_cast<int64_t>(text.size()) < kMaxLogChunk / 2}};
}

Result<json> JobManagerImpl::ListFiles(const std::string& name) {
  LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(name));
  LOTE_ASSIGN_OR_RETURN(auto spec, SpecOf(rec));
  // "output": the paths to fetch (…/files/<path>), as before; "output_files":
  // the same with their names in the output folder and sizes.
  json out = {{"output", json::array()}, {"logs", json::array()}};
  std::error_code ec;
  OutputListing listing = ListOutputFiles(*spec, rec.state.output_rows >= 0);
  for (const OutputFile& f : listing.files) out["output"].push_back(OutputFileApiPath(f.name));
  out["output_files"] = OutputFilesJson(listing);
  if (listing.truncated) out["output_truncated"] = true;
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
  LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(name));
  LOTE_ASSIGN_OR_RETURN(auto spec, SpecOf(rec));
  if (rel == spec->output.file_name) {
    if (rec.state.output_rows < 0) return NotFound("job '" + name + "' has written no output");
    return fs::path(spec->output.local_path);
  }
  if (rel.starts_with("logs/")) return storage::SafeJoin(DirOf(name).root, rel);
  // Files the scoring script wrote in the output folder: by their name, or
  // "outputs/<name>" (the only spelling of a name that starts with logs/).
  std::string in_output = rel.starts_with("outputs/") ? rel.substr(8) : rel;
  if (in_output == spec->output.file_name && rec.state.output_rows < 0) {
    return NotFound("job '" + name + "' has written no output");
  }
  if (in_output == AssemblyTempName(spec->output.local_path, name)) {
    return NotFound("job '" + name + "' has no file '" + rel + "'");
  }
  return ResolveOutputFile(*spec, in_output);
}

}  // namespace lote::jobs
