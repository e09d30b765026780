// What an agent that shares no disk with the control plane fetches to run a
// job (docs/agent-api.md, "Artifacts"): the job's model folder, its code
// folder and the Python runner, each a *tree* of files named by relative
// path and addressed by the sha256 of their bytes.
//
// The control plane hashes the trees once per job (jobs/job_artifacts.h) and
// serves each file by its hash; the agent checks every answer against this
// manifest and keeps what it fetched in a per-node cache keyed by the same
// hashes (agent/artifact_cache.h). A tree's own hash (TreeDigest) covers its
// file list (paths, sizes, hashes, executable bits), so one hash in the
// agent-config names exactly one set of bytes on disk.
//
// Paths are bytes, carried as common/fs_name.h byte fields ("path",
// "path_b64"). A path is relative and normal: components separated by one
// '/', none empty, ".", ".." or over 255 bytes, no NUL, at most 4095 bytes
// in all. A manifest read from the wire is checked against these rules and
// against Limits before anything is written (ParseTree).
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lote::artifacts {

struct FileEntry {
  std::string path;  // relative, normal (CheckRelativePath); bytes
  uint64_t size = 0;
  std::string sha256;  // 64 lowercase hex digits
  bool executable = false;
  bool operator==(const FileEntry&) const = default;
};

struct Tree {
  std::string name;              // "model", "code" or "runner"
  std::vector<FileEntry> files;  // sorted by path (bytes), no path twice
  std::string entry;             // the runner's file to run ("lote_runner.py"); "" for others
  std::string sha256;            // TreeDigest(files)
  uint64_t bytes() const;
};

// The most a tree may hold: checked when the control plane hashes a folder
// and again when an agent reads a manifest.
struct Limits {
  size_t max_files = 100'000;
  uint64_t max_bytes = uint64_t{64} << 30;  // 64 GiB
};

inline constexpr size_t kMaxPathBytes = 4095;
inline constexpr size_t kMaxNameBytes = 255;

// The names of the trees a job may have, in manifest order.
inline constexpr const char* kModelTree = "model";
inline constexpr const char* kCodeTree = "code";
inline constexpr const char* kRunnerTree = "runner";

bool IsSha256Hex(std::string_view s);

// InvalidArgument naming the rule when `path` is not a normal relative path.
Status CheckRelativePath(std::string_view path);

// sha256 over the sorted entries: for each, its path, NUL, its size in
// decimal, NUL, its sha256, NUL, 'x' (executable) or '-', and '\n'.
std::string TreeDigest(const std::vector<FileEntry>& files);

// Sorts the files, checks them (paths, hashes, no path twice, limits) and
// sets tree.sha256. InvalidArgument naming the tree and the file.
Status Seal(Tree& tree, const Limits& limits);

// {"name", "sha256", "entry"?, "files": [{"path"(, "path_b64"), "size",
// "sha256", "executable"}]}
nlohmann::json TreeToJson(const Tree& tree);
// Reads and checks a tree (Seal's rules); when the JSON carries "sha256" it
// must equal the digest of its files. InvalidArgument naming the field.
Result<Tree> TreeFromJson(const nlohmann::json& j, const Limits& limits);

// What the agent-config says of a tree: {"sha256", "files", "bytes", "entry"?}.
nlohmann::json TreeRef(const Tree& tree);

// The manifest of a job: {"trees": [tree, …]}.
nlohmann::json ManifestToJson(const std::vector<Tree>& trees);
Result<std::vector<Tree>> ManifestFromJson(const nlohmann::json& j, const Limits& limits);

}  // namespace lote::artifacts
