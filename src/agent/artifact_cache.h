// A node's cache of what remote agents fetch (docs/agent-api.md, "The node
// cache"), under `lote agent --cache-dir` (LOTE_AGENT_CACHE,
// $XDG_CACHE_HOME/lote or ~/.cache/lote):
//
//   blobs/<sha256>        a fetched file, named by the sha256 of its bytes
//                         (checked before it got there), read-only
//   trees/<tree sha256>   a model, code or runner folder laid out from blobs
//                         (hard links, or copies where links cannot be made
//                         or the file is executable); reused by every job
//                         whose tree has the same hash
//   tmp/                  downloads and layouts in progress
//   runs/<job>-node<I>-…  one agent's logs, scratch inputs and output folder,
//                         removed when it exits
//
// Every blob and tree appears whole, by rename(2) from tmp/, so agents on
// one node may fill the cache at once: the second to finish a tree finds
// the first one's and drops its own. Nothing is evicted (see the docs).
//
// Thread-safe: an ArtifactCache holds only its root.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "agent/download_sink.h"
#include "artifacts/manifest.h"
#include "common/status.h"

namespace lote::agent {

// Fetches the bytes of one file of a tree into sink (the cache checks them).
using BlobFetch = std::function<Status(const artifacts::FileEntry& file, DownloadSink& sink)>;

class ArtifactCache {
 public:
  // Makes the folders (mode 0700). IoError naming the folder.
  static Result<ArtifactCache> Open(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }

  // The folder of the tree with this hash, when the cache has it.
  std::optional<std::filesystem::path> FindTree(const std::string& tree_sha256) const;

  // The tree's folder, laid out from blobs; missing blobs are fetched
  // through `fetch` and kept only when their size and sha256 are those of
  // the manifest (otherwise InvalidArgument naming the file and both
  // hashes, and nothing is kept). `expected_sha256`, when not empty, must
  // be the tree's digest (the agent-config's).
  Result<std::filesystem::path> Materialize(const artifacts::Tree& tree,
                                            const std::string& expected_sha256,
                                            const BlobFetch& fetch) const;

  // A fresh folder under runs/ for one agent run, named from `label`.
  Result<std::filesystem::path> MakeRunDir(const std::string& label) const;

  std::filesystem::path blob_path(const std::string& sha256) const {
    return root_ / "blobs" / sha256;
  }

 private:
  explicit ArtifactCache(std::filesystem::path root) : root_(std::move(root)) {}
  Status FetchBlob(const artifacts::Tree& tree, const artifacts::FileEntry& file,
                   const BlobFetch& fetch) const;
  Result<std::filesystem::path> TempDir(const std::string& label) const;

  std::filesystem::path root_;
};

// The cache folder when --cache-dir is not given: LOTE_AGENT_CACHE, else
// $XDG_CACHE_HOME/lote, else $HOME/.cache/lote ("" when none is set).
std::filesystem::path DefaultCacheDir();

}  // namespace lote::agent
