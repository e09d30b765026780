#include "jobs/disk_usage.h"

#include <sys/stat.h>

#include <system_error>

#include "jobs/job_cleanup.h"
#include "jobs/job_manager_impl.h"

namespace lote::jobs {

namespace fs = std::filesystem;
using nlohmann::json;

TreeUsage UsageOf(const fs::path& path, const fs::path& skip) {
  TreeUsage u;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return u;
  if (S_ISREG(st.st_mode)) return TreeUsage{static_cast<uint64_t>(st.st_size), 1};
  if (!S_ISDIR(st.st_mode)) return u;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!skip.empty() && it->path() == skip) {
      it.disable_recursion_pending();
      continue;
    }
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      u.bytes += static_cast<uint64_t>(st.st_size);
      ++u.files;
    }
  }
  return u;
}

namespace {

json Row(const std::string& category, const TreeUsage& u, const std::string& what) {
  return json{{"category", category}, {"bytes", u.bytes}, {"files", u.files}, {"what", what}};
}

constexpr size_t kBiggestJobs = 10;

}  // namespace

Result<json> JobManagerImpl::DiskUsage() {
  const HomeLayout& home = options_.home;
  LOTE_ASSIGN_OR_RETURN(auto jobs, options_.store->ListJobs(""));
  TreeUsage results, logs, staging, other;
  json per_job = json::array();
  for (const store::JobRecord& rec : jobs) {
    const JobDir dir = DirOf(rec.name());
    TreeUsage r = UsageOf(dir.results());
    TreeUsage l = UsageOf(dir.logs());
    TreeUsage s = UsageOf(dir.staging());
    s += UsageOf(dir.input());
    TreeUsage all = UsageOf(dir.root);
    TreeUsage rest{all.bytes - std::min(all.bytes, r.bytes + l.bytes + s.bytes),
                   std::max<int64_t>(0, all.files - r.files - l.files - s.files)};
    results += r;
    logs += l;
    staging += s;
    other += rest;
    per_job.push_back({{"name", rec.name()},
                       {"status", std::string(store::JobStatusName(rec.state.status))},
                       {"bytes", all.bytes},
                       {"results_bytes", r.bytes},
                       {"logs_bytes", l.bytes}});
  }
  std::sort(per_job.begin(), per_job.end(),
            [](const json& a, const json& b) { return a["bytes"].get<uint64_t>() > b["bytes"].get<uint64_t>(); });
  if (per_job.size() > kBiggestJobs) per_job.erase(per_job.begin() + kBiggestJobs, per_job.end());

  // Uploads: models and code not yet registered (staging), and the inputs
  // of --input-local-path in the default datastore.
  TreeUsage uploads = UsageOf(home.staging());
  TreeUsage datastore, in_datastore;  // in_datastore: the job uploads
  int64_t job_uploads = 0;
  if (auto ds = options_.registry->OpenDatastore(kUploadDatastore)) {
    const fs::path local_upload = ds->root() / "LocalUpload";
    std::error_code ec;
    for (auto it = fs::directory_iterator(local_upload, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (it->path().filename().string().starts_with("job-")) {
        in_datastore += UsageOf(it->path());
        ++job_uploads;
      }
    }
    datastore = UsageOf(ds->root());
    datastore.bytes -= std::min(datastore.bytes, in_datastore.bytes);
    datastore.files = std::max<int64_t>(0, datastore.files - in_datastore.files);
    uploads += in_datastore;
  }
  // Registered data assets in lote's own datastores (their files; an asset
  // in a datastore elsewhere on the host is not the home's).
  TreeUsage assets;
  int64_t asset_count = 0;
  if (auto list = options_.registry->ListData()) {
    for (const auto& a : *list) {
      if (!a.contains("datastore")) continue;
      ++asset_count;
      auto path = options_.registry->DatastorePath(a.value("datastore", std::string()),
                                                   a.value("relative_path", std::string()));
      if (path && path->string().starts_with(home.datastores().string() + "/")) assets += UsageOf(*path);
    }
  }
  TreeUsage db;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) db += UsageOf(home.metadata_db().string() + suffix);

  json categories = json::array();
  categories.push_back(Row("jobs.results", results, "committed rows of jobs not yet ended"));
  categories.push_back(Row("jobs.logs", logs, "job logs and reports"));
  categories.push_back(Row("jobs.staging", staging, "results being received, downloaded inputs"));
  categories.push_back(Row("jobs.other", other, "job code copies and artifacts"));
  categories.push_back(Row("uploads", uploads, std::to_string(job_uploads) + " --input-local-path uploads and "
                                                   "unregistered model/code uploads"));
  categories.push_back(Row("models", UsageOf(home.models()), "registered models"));
  categories.push_back(Row("code", UsageOf(home.code()), "deployments' code"));
  categories.push_back(Row("data_assets", assets, std::to_string(asset_count) +
                                                      " data assets (in lote's datastores; inside 'datastore')"));
  categories.push_back(Row("datastore", datastore, "the default datastore, uploads apart (outputs, data)"));
  categories.push_back(Row("store", db, "the metadata store"));
  uint64_t total = 0;
  for (const auto& c : categories) {
    if (c["category"] != "data_assets") total += c["bytes"].get<uint64_t>();
  }
  return json{{"home", home.root.string()},
              {"total_bytes", total},
              {"jobs", {{"count", jobs.size()}, {"bytes", results.bytes + logs.bytes + staging.bytes + other.bytes}}},
              {"categories", std::move(categories)},
              {"biggest_jobs", std::move(per_job)}};
}

}  // namespace lote::jobs
