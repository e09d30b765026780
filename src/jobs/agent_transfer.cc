// JobManager: what remote agents fetch and upload (docs/agent-api.md,
// jobs/agent_access.h): the manifest of the job's artifacts and their files
// by hash, the bytes of leased input items, and their logs. Every file is
// opened beneath the folder it belongs to (storage::Beneath), and only
// files the job names (its manifest, its leased items) are ever served.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "common/fs_name.h"
#include "common/util.h"
#include "jobs/job_manager_impl.h"
#include "jobs/node_logs.h"
#include "jobs/output_assembly.h"
#include "jobs/planner_parquet.h"
#include "storage/beneath.h"
#include "storage/safe_path.h"

namespace lote::jobs {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// rel of path beneath root, lexically; nullopt when path is not beneath it.
std::optional<std::string> RelativeTo(const std::string& path, const std::string& root) {
  std::string prefix = root;
  if (prefix.empty()) return std::nullopt;
  if (prefix.back() != '/') prefix += '/';
  if (!path.starts_with(prefix) || path.size() == prefix.size()) return std::nullopt;
  return path.substr(prefix.size());
}

std::string Shown(std::string_view s) {
  return Quote(EscapeName(s));
}

}  // namespace

Result<std::shared_ptr<const JobArtifacts>> JobManagerImpl::ArtifactsOf(const JobSpec& spec) {
  {
    std::lock_guard lock(artifacts_mu_);
    if (auto it = artifacts_.find(spec.name); it != artifacts_.end()) return it->second;
  }
  std::lock_guard load(artifacts_load_mu_);  // one load (or hashing) at a time
  {
    std::lock_guard lock(artifacts_mu_);
    if (auto it = artifacts_.find(spec.name); it != artifacts_.end()) return it->second;
  }
  const fs::path file = DirOf(spec.name).artifacts();
  auto loaded = LoadJobArtifacts(file);
  if (!loaded && loaded.error().code() == ErrorCode::kNotFound) {
    // Planned before its artifacts were hashed: hash them now, once.
    loaded = HashJobArtifacts(spec.doc.value("runtime", json::object()));
    if (loaded) LOTE_TRY(SaveJobArtifacts(*loaded, file));
  }
  if (!loaded) return loaded.error().WithContext("job '" + spec.name + "'");
  auto shared = std::make_shared<const JobArtifacts>(std::move(*loaded));
  std::lock_guard lock(artifacts_mu_);
  artifacts_.emplace(spec.name, shared);
  return shared;
}

void JobManagerImpl::ForgetArtifacts(const std::string& job) {
  std::lock_guard lock(artifacts_mu_);
  artifacts_.erase(job);
}

Result<json> JobManagerImpl::Artifacts(const std::string& job) {
  LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(job));
  LOTE_ASSIGN_OR_RETURN(auto spec, SpecOf(rec));
  if (spec->access.artifacts != AccessMode::kRemote) {
    return FailedPrecondition(
        "job '" + job + "' runs its agents with direct access: they read its model and code " +
        "by path");
  }
  LOTE_ASSIGN_OR_RETURN(auto artifacts, ArtifactsOf(*spec));
  return artifacts->ManifestJson();
}

Result<FileSlice> JobManagerImpl::OpenBlob(const std::string& job, const std::string& sha256) {
  LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(job));
  LOTE_ASSIGN_OR_RETURN(auto spec, SpecOf(rec));
  if (spec->access.artifacts != AccessMode::kRemote) {
    return NotFound("job '" + job + "' serves no blobs: its agents have direct access");
  }
  LOTE_ASSIGN_OR_RETURN(auto artifacts, ArtifactsOf(*spec));
  auto where = artifacts->FindBlob(sha256);
  if (!where)
    return NotFound("job '" + job + "' has no file with sha256 " + Quote(sha256) +
                    " in its manifest");
  LOTE_ASSIGN_OR_RETURN(storage::Beneath root,
                        storage::Beneath::Open(where->root, "an artifact folder"));
  auto file = root.OpenRead(where->path);
  if (!file) return file.error().WithContext("job '" + job + "': artifact " + Shown(where->path));
  // Served as it is now: the agent checks the bytes against the manifest.
  return FileSlice{std::move(file->fd), 0, file->size};
}

namespace {

// Span `k` of a Parquet row-group item's "spans" (jobs/planner_parquet.h),
// from the whole file's slice, when the file still has the size it was
// planned with.
Result<FileSlice> ItemSpan(FileSlice whole, const json& item, int64_t k, const std::string& what) {
  auto spans = item.find(kItemSpansKey);
  auto size = item.find(kItemFileSizeKey);
  if (spans == item.end() || !spans->is_array() || size == item.end() || !size->is_number_unsigned()) {
    return InvalidArgument(what + " has no spans: fetch it whole", "span");
  }
  if (k < 0 || static_cast<uint64_t>(k) >= spans->size()) {
    return NotFound(what + " has " + std::to_string(spans->size()) + " spans, not span " + std::to_string(k));
  }
  if (size->get<uint64_t>() != whole.length) {
    return FailedPrecondition(what + ": the file has " + std::to_string(whole.length) + " bytes, " +
                              std::to_string(size->get<uint64_t>()) +
                              " when the job was planned: it changed since");
  }
  const json& s = (*spans)[static_cast<size_t>(k)];
  if (!s.is_array() || s.size() != 2 || !s[0].is_number_unsigned() || !s[1].is_number_unsigned() ||
      s[0].get<uint64_t>() > whole.length || s[1].get<uint64_t>() > whole.length - s[0].get<uint64_t>()) {
    return Internal(what + ": span " + std::to_string(k) + " " + s.dump() + " is not within the file");
  }
  whole.offset = s[0].get<uint64_t>();
  whole.length = s[1].get<uint64_t>();
  return whole;
}

}  // namespace

Result<FileSlice> JobManagerImpl::OpenItem(const std::string& job, int64_t task_id, int64_t index,
                                           const std::string& lease, std::optional<int64_t> span) {
  LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(job));
  LOTE_ASSIGN_OR_RETURN(auto spec, SpecOf(rec));
  const std::string mb = "mini-batch " + std::to_string(task_id);
  LOTE_ASSIGN_OR_RETURN(store::Task task, options_.store->GetTask(job, task_id));
  if (task.status != store::TaskStatus::kLeased || lease.empty() || task.lease != lease) {
    return FailedPrecondition(mb + " of job '" + job +
                              "' is not leased under this lease (it was handed back, " +
                              "expired or finished)");
  }
  if (!task.items.is_array() || index < 0 || static_cast<size_t>(index) >= task.items.size()) {
    return NotFound(mb + " has no item " + std::to_string(index));
  }
  const json& item = task.items[static_cast<size_t>(index)];
  LOTE_ASSIGN_OR_RETURN(std::string path, ItemPath(item));
  const std::string what =
      "item " + std::to_string(index) + " of " + mb + " (" + Shown(ItemDisplayPath(item)) + ")";

  // Items are beneath the job's input folder: its datastore, or the folder
  // its URL input was downloaded into.
  std::string root;
  std::string where;
  if (spec->input.kind == JobInput::Kind::kUrl) {
    root = DirOf(job).input().string();
    where = "the job's downloaded input";
  } else {
    const json& in = spec->doc["input"];
    if (!in.contains("root") || !in["root"].is_string()) {
      return FailedPrecondition("job '" + job +
                                "' was recorded before inputs carried their datastore; its items " +
                                "cannot be served");
    }
    root = in["root"].get<std::string>();
    where = in.contains("datastore") && in["datastore"].is_string()
                ? "datastore '" + in["datastore"].get<std::string>() + "'"
                : "the input's datastore";
  }
  LOTE_ASSIGN_OR_RETURN(storage::Beneath dir, storage::Beneath::Open(root, where));
  auto rel = RelativeTo(path, dir.root().string());
  if (!rel) rel = RelativeTo(path, root);
  if (!rel) return Internal(what + " is not beneath " + where);
  auto file = dir.OpenRead(*rel);
  if (!file && file.error().code() == ErrorCode::kNotFound) {
    return NotFound(what + " cannot be read: it no longer exists in " + where);
  }
  if (!file) return file.error().WithContext(what);
  FileSlice slice{std::move(file->fd), 0, file->size};
  if (span) return ItemSpan(std::move(slice), item, *span, what);
  if (item.contains("offset") || item.contains("length")) {
    auto offset = item.find("offset");
    auto length = item.find("length");
    if (offset == item.end() || length == item.end() || !offset->is_number_unsigned() ||
        !length->is_number_unsigned()) {
      return Internal(what + ": a byte-range item without offset and length");
    }
    slice.offset = offset->get<uint64_t>();
    slice.length = length->get<uint64_t>();
    if (slice.offset > file->size || slice.length > file->size - slice.offset) {
      return FailedPrecondition(what + ": bytes " + std::to_string(slice.offset) + "+" +
                                std::to_string(slice.length) + " are past the file's end (" +
                                std::to_string(file->size) +
                                " bytes): it changed after the job was planned");
    }
  }
  return slice;
}

Result<uint64_t> JobManagerImpl::NodeLogSize(const std::string& job, const std::string& rel) {
  LOTE_TRY(options_.store->GetJob(job));
  std::lock_guard lock(node_logs_mu_);
  return jobs::NodeLogSize(DirOf(job).logs(), rel);
}

Result<uint64_t> JobManagerImpl::WriteNodeLog(const std::string& job, const std::string& rel,
                                              uint64_t offset, std::string_view data) {
  LOTE_TRY(options_.store->GetJob(job));
  std::lock_guard lock(node_logs_mu_);
  // A log that cannot be stored is the agent's to report; the job goes on.
  return jobs::WriteNodeLog(DirOf(job).logs(), rel, offset, data);
}

Result<storage::Beneath> JobManagerImpl::NodeOutputFolder(const std::string& job, const std::string& rel) {
  LOTE_ASSIGN_OR_RETURN(store::JobRecord rec, options_.store->GetJob(job));
  LOTE_ASSIGN_OR_RETURN(auto spec, SpecOf(rec));
  auto norm = storage::NormalizeRelativePath(rel);
  if (!norm) return norm.error();
  if (!spec->settings.summary_only && *norm == spec->output.file_name) {
    return InvalidArgument("'" + rel + "' is the job's output file, which lote assembles from the "
                           "mini-batches' results; a script's own file needs another name");
  }
  if (*norm == AssemblyTempName(spec->output.local_path, job)) {
    return InvalidArgument("'" + rel + "' is the name lote assembles the output file under");
  }
  return storage::Beneath::Open(spec->output.local_dir, "the output folder of job '" + job + "'");
}

}  // namespace lote::jobs
