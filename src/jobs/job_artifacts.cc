#include "jobs/job_artifacts.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/crypto.h"
#include "common/fs_name.h"
#include "common/util.h"
#include "storage/beneath.h"

namespace lote::jobs {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Links inside a folder may point at a folder above themselves: the walk
// stops this deep rather than loop.
constexpr int kMaxDepth = 64;
constexpr size_t kReadBlock = size_t{1} << 20;

struct Walk {
  const storage::Beneath& dir;
  const TreeFilter& keep;
  const artifacts::Limits& limits;
  artifacts::Tree& tree;
  uint64_t bytes = 0;
  std::string buf;
};

Result<artifacts::FileEntry> HashFile(Walk& w, const std::string& rel) {
  LOTE_ASSIGN_OR_RETURN(storage::OpenedFile file, w.dir.OpenRead(rel));
  struct stat st {};
  if (::fstat(file.fd.get(), &st) != 0) {
    return IoError("cannot stat " + Quote(EscapeName(rel)) + " in " + w.dir.what() + ": " +
                   std::strerror(errno));
  }
  artifacts::FileEntry e{
      .path = rel, .size = 0, .sha256 = {}, .executable = (st.st_mode & S_IXUSR) != 0};
  Sha256Hasher h;
  if (w.buf.empty()) w.buf.resize(kReadBlock);
  for (;;) {
    ssize_t n = ::pread(file.fd.get(), w.buf.data(), w.buf.size(), static_cast<off_t>(e.size));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return IoError("cannot read " + Quote(EscapeName(rel)) + " in " + w.dir.what() + ": " +
                     std::strerror(errno));
    }
    if (n == 0) break;
    h.Update(std::string_view(w.buf.data(), static_cast<size_t>(n)));
    e.size += static_cast<uint64_t>(n);
    if (w.bytes + e.size > w.limits.max_bytes) {
      return InvalidArgument(w.dir.what() + " holds over " + std::to_string(w.limits.max_bytes) +
                             " bytes, the most an agent fetches of one tree");
    }
  }
  e.sha256 = h.HexDigest();
  w.bytes += e.size;
  return e;
}

Status WalkFolder(Walk& w, const std::string& rel, int depth) {
  if (depth > kMaxDepth) {
    return InvalidArgument(w.dir.what() + ": " + Quote(EscapeName(rel)) + " is over " +
                           std::to_string(kMaxDepth) + " folders deep (a link that loops?)");
  }
  LOTE_ASSIGN_OR_RETURN(auto entries, w.dir.List(rel));
  for (const storage::DirEntry& e : entries) {
    const std::string path = rel.empty() ? e.name : rel + "/" + e.name;
    if (e.error) {
      if (e.error->code() == ErrorCode::kNotFound) continue;  // a dangling link holds nothing
      return *e.error;
    }
    if (e.type == storage::EntryType::kDir) {
      if (!w.keep || w.keep(path, true)) LOTE_TRY(WalkFolder(w, path, depth + 1));
      continue;
    }
    if (e.type != storage::EntryType::kFile || (w.keep && !w.keep(path, false))) continue;
    if (w.tree.files.size() >= w.limits.max_files) {
      return InvalidArgument(w.dir.what() + " holds over " + std::to_string(w.limits.max_files) +
                             " files, the most an agent fetches of one tree");
    }
    LOTE_ASSIGN_OR_RETURN(artifacts::FileEntry f, HashFile(w, path));
    w.tree.files.push_back(std::move(f));
  }
  return {};
}

bool KeepRunnerFile(const std::string& rel, bool is_dir) {
  std::string_view name = rel;
  if (size_t slash = name.rfind('/'); slash != std::string_view::npos)
    name.remove_prefix(slash + 1);
  if (is_dir) return name != "__pycache__" && !name.starts_with(".");
  return name.ends_with(".py");
}

Result<std::string> RuntimeString(const json& runtime, const char* key) {
  auto it = runtime.find(key);
  if (it == runtime.end() || it->is_null()) return std::string();
  if (!it->is_string())
    return Internal(std::string("job document: 'runtime.") + key + "' is not a string");
  return it->get<std::string>();
}

}  // namespace

JobArtifacts::JobArtifacts(std::vector<artifacts::Tree> trees, std::vector<std::string> roots)
    : trees_(std::move(trees)), roots_(std::move(roots)) {
  LOTE_CHECK(trees_.size() == roots_.size());
  for (size_t t = 0; t < trees_.size(); ++t) {
    for (size_t f = 0; f < trees_[t].files.size(); ++f)
      by_hash_.emplace(trees_[t].files[f].sha256, std::pair{t, f});
  }
}

const artifacts::Tree* JobArtifacts::Find(const std::string& name) const {
  for (const auto& t : trees_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::optional<BlobLocation> JobArtifacts::FindBlob(const std::string& sha256) const {
  auto it = by_hash_.find(sha256);
  if (it == by_hash_.end()) return std::nullopt;
  const auto [t, f] = it->second;
  return BlobLocation{roots_[t], trees_[t].files[f].path, trees_[t].files[f].size};
}

json JobArtifacts::ManifestJson() const {
  return artifacts::ManifestToJson(trees_);
}

json JobArtifacts::ToJson() const {
  json j = ManifestJson();
  j["roots"] = roots_;
  return j;
}

Result<JobArtifacts> JobArtifacts::FromJson(const json& j) {
  // Our own file: trees of any size it was written with are read back.
  artifacts::Limits unbounded{.max_files = SIZE_MAX, .max_bytes = UINT64_MAX};
  LOTE_ASSIGN_OR_RETURN(auto trees, artifacts::ManifestFromJson(j, unbounded));
  auto roots = j.find("roots");
  if (roots == j.end() || !roots->is_array() || roots->size() != trees.size()) {
    return Internal("artifacts: 'roots' must list one folder per tree");
  }
  std::vector<std::string> dirs;
  for (const json& r : *roots) {
    if (!r.is_string()) return Internal("artifacts: 'roots' must be strings");
    dirs.push_back(r.get<std::string>());
  }
  return JobArtifacts(std::move(trees), std::move(dirs));
}

Result<artifacts::Tree> HashFolder(const fs::path& root, const std::string& name,
                                   const TreeFilter& keep, const artifacts::Limits& limits) {
  LOTE_ASSIGN_OR_RETURN(storage::Beneath dir,
                        storage::Beneath::Open(root, "the " + name + " folder"));
  artifacts::Tree tree;
  tree.name = name;
  Walk w{.dir = dir, .keep = keep, .limits = limits, .tree = tree, .bytes = 0, .buf = {}};
  LOTE_TRY(WalkFolder(w, "", 0));
  LOTE_TRY(artifacts::Seal(tree, limits));
  return tree;
}

Result<JobArtifacts> HashJobArtifacts(const json& runtime, const artifacts::Limits& limits) {
  std::vector<artifacts::Tree> trees;
  std::vector<std::string> roots;
  LOTE_ASSIGN_OR_RETURN(std::string model_dir, RuntimeString(runtime, "model_dir"));
  LOTE_ASSIGN_OR_RETURN(std::string code_dir, RuntimeString(runtime, "code_dir"));
  LOTE_ASSIGN_OR_RETURN(std::string runner, RuntimeString(runtime, "runner"));
  if (model_dir.empty()) return Internal("job document: 'runtime.model_dir' is missing");
  auto add = [&](const fs::path& root, const char* name, const TreeFilter& keep,
                 std::string entry) -> Status {
    auto tree = HashFolder(root, name, keep, limits);
    if (!tree)
      return tree.error().WithContext(std::string("hashing the ") + name + " for remote agents");
    tree->entry = std::move(entry);
    if (!tree->entry.empty())
      LOTE_TRY(artifacts::Seal(*tree, limits));  // checks the entry is a file
    trees.push_back(std::move(*tree));
    roots.push_back(root.string());
    return {};
  };
  LOTE_TRY(add(model_dir, artifacts::kModelTree, nullptr, ""));
  if (!code_dir.empty()) LOTE_TRY(add(code_dir, artifacts::kCodeTree, nullptr, ""));
  if (!runner.empty()) {
    const fs::path r(runner);
    LOTE_TRY(add(r.parent_path(), artifacts::kRunnerTree, KeepRunnerFile, r.filename().string()));
  }
  return JobArtifacts(std::move(trees), std::move(roots));
}

Status SaveJobArtifacts(const JobArtifacts& artifacts, const fs::path& file) {
  return WriteFileAtomic(file, artifacts.ToJson().dump() + "\n", 0600);
}

Result<JobArtifacts> LoadJobArtifacts(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return NotFound("'" + file.filename().string() + "' does not exist");
  LOTE_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return Internal("'" + file.string() + "' is not JSON: " + e.what());
  }
  return JobArtifacts::FromJson(j);
}

}  // namespace lote::jobs
