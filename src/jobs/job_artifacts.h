// The control plane's side of a remote job's artifacts (artifacts/manifest.h):
// its model folder, code folder and the Python runner's folder, hashed once
// (when the job is planned, or on first use for a job planned before), kept
// in <job>/artifacts.json, and served file by file by hash.
//
// Folders are read beneath themselves (storage::Beneath): a symbolic link
// is followed only while its target stays inside, and one that leads out
// fails the hashing with an error naming it. Only a tree's listed files can
// ever be served (FindBlob), never a path an agent names.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "artifacts/manifest.h"
#include "common/status.h"

namespace lote::jobs {

// A file in a tree: its tree's folder on this host and its path beneath it.
struct BlobLocation {
  std::string root;
  std::string path;
  uint64_t size = 0;
};

class JobArtifacts {
 public:
  JobArtifacts() = default;
  // trees[i] was hashed from the folder roots[i] of this host.
  JobArtifacts(std::vector<artifacts::Tree> trees, std::vector<std::string> roots);

  const std::vector<artifacts::Tree>& trees() const { return trees_; }
  // The tree named so ("model", "code", "runner"); nullptr when the job has none.
  const artifacts::Tree* Find(const std::string& name) const;
  // Where the file with this sha256 is; nullopt when no tree lists it.
  std::optional<BlobLocation> FindBlob(const std::string& sha256) const;

  // What agents get (GET …/artifacts): the trees, without this host's folders.
  nlohmann::json ManifestJson() const;
  // The trees and their folders (the job's artifacts.json); and back.
  nlohmann::json ToJson() const;
  static Result<JobArtifacts> FromJson(const nlohmann::json& j);

 private:
  std::vector<artifacts::Tree> trees_;
  std::vector<std::string> roots_;
  std::map<std::string, std::pair<size_t, size_t>> by_hash_;  // sha256 -> tree, file
};

// Which files of a folder a tree holds: (path beneath the folder, is a
// folder) -> keep it. A folder not kept is not read.
using TreeFilter = std::function<bool(const std::string& rel, bool is_dir)>;

// Hashes every regular file beneath `root` that `keep` keeps (all when
// empty). Files keep their executable bit. InvalidArgument for a link that
// leads out or a tree over the limits, IoError for a file that cannot be
// read; each naming the file.
Result<artifacts::Tree> HashFolder(const std::filesystem::path& root, const std::string& name,
                                   const TreeFilter& keep, const artifacts::Limits& limits);

// The trees of a job's runtime (its document's "runtime"): "model" from
// model_dir, "code" from code_dir when set, "runner" from the folder of
// `runner` when set (its .py files, not __pycache__; the entry is the
// runner's file name).
Result<JobArtifacts> HashJobArtifacts(const nlohmann::json& runtime,
                                      const artifacts::Limits& limits = {});

Status SaveJobArtifacts(const JobArtifacts& artifacts, const std::filesystem::path& file);
// NotFound when the file does not exist.
Result<JobArtifacts> LoadJobArtifacts(const std::filesystem::path& file);

}  // namespace lote::jobs
