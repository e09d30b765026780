#include "agent/artifact_cache.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/fs_name.h"
#include "common/util.h"

namespace lote::agent {

namespace fs = std::filesystem;

namespace {

std::string Shown(const fs::path& p) {
  return Quote(EscapeName(p.string()));
}

Status MakeDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return IoError("cannot create the agent's cache folder " + Shown(dir) + ": " + ec.message());
  return {};
}

// A file of the tree: a hard link to its blob where it can be (the blob is
// read-only, so the file is), else a copy; executables are always copies
// (a blob's mode is shared by every link to it).
Status LayOut(const fs::path& blob, const fs::path& dst, bool executable) {
  std::error_code ec;
  fs::create_directories(dst.parent_path(), ec);
  if (ec) return IoError("cannot create " + Shown(dst.parent_path()) + ": " + ec.message());
  if (!executable && ::link(blob.c_str(), dst.c_str()) == 0) return {};
  if (!executable && errno != EXDEV && errno != EMLINK && errno != EPERM) {
    return IoError("cannot link " + Shown(dst) + " to its blob: " + std::strerror(errno));
  }
  fs::copy_file(blob, dst, fs::copy_options::none, ec);
  if (ec) return IoError("cannot copy " + Shown(blob) + " to " + Shown(dst) + ": " + ec.message());
  if (::chmod(dst.c_str(), executable ? 0555 : 0444) != 0) {
    return IoError("cannot set the mode of " + Shown(dst) + ": " + std::strerror(errno));
  }
  return {};
}

bool IsRegularFile(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

fs::path DefaultCacheDir() {
  if (const char* v = std::getenv("LOTE_AGENT_CACHE"); v && *v) return v;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "lote";
  if (const char* home = std::getenv("HOME"); home && *home)
    return fs::path(home) / ".cache" / "lote";
  return {};
}

Result<ArtifactCache> ArtifactCache::Open(const fs::path& root) {
  if (root.empty()) {
    return InvalidArgument("no cache folder: pass --cache-dir or set LOTE_AGENT_CACHE (or HOME)",
                           "--cache-dir");
  }
  std::error_code ec;
  fs::path abs = fs::absolute(root, ec);
  if (ec) return IoError("cannot resolve the cache folder " + Shown(root) + ": " + ec.message());
  const bool fresh = !fs::exists(abs, ec);
  for (const char* sub : {"blobs", "trees", "tmp", "runs"}) LOTE_TRY(MakeDir(abs / sub));
  if (fresh) ::chmod(abs.c_str(), 0700);  // the node's other users need not read what jobs fetched
  return ArtifactCache(abs);
}

std::optional<fs::path> ArtifactCache::FindTree(const std::string& tree_sha256) const {
  if (!artifacts::IsSha256Hex(tree_sha256)) return std::nullopt;
  fs::path dir = root_ / "trees" / tree_sha256;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return dir;
  return std::nullopt;
}

Result<fs::path> ArtifactCache::TempDir(const std::string& label) const {
  std::string pattern = (root_ / "tmp" / (label + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return IoError("cannot create a folder in " + Shown(root_ / "tmp") + ": " +
                   std::strerror(errno));
  }
  return fs::path(pattern);
}

Result<fs::path> ArtifactCache::MakeRunDir(const std::string& label) const {
  std::string pattern = (root_ / "runs" / (label + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return IoError("cannot create a folder in " + Shown(root_ / "runs") + ": " +
                   std::strerror(errno));
  }
  return fs::path(pattern);
}

Status ArtifactCache::FetchBlob(const artifacts::Tree& tree, const artifacts::FileEntry& file,
                                const BlobFetch& fetch) const {
  const fs::path blob = blob_path(file.sha256);
  if (IsRegularFile(blob)) return {};
  const std::string what = Shown(file.path) + " of the " + tree.name;
  const fs::path tmp = root_ / "tmp" / (file.sha256 + "." + RandomHex(6));
  auto dl = FileDownload::Create(
      {.path = tmp, .base = 0, .prefix = {}, .max_bytes = file.size, .sha256 = true});
  if (!dl) return dl.error().WithContext("fetching " + what);
  struct RemoveTmp {
    const fs::path& path;
    bool keep = false;
    ~RemoveTmp() {
      std::error_code ec;
      if (!keep) fs::remove(path, ec);
    }
  } cleanup{tmp};
  Status fetched = fetch(file, **dl);
  Status closed = (*dl)->Close();
  if (!fetched && (*dl)->overflowed()) {
    // The sink refused a byte past the manifest's size.
    return InvalidArgument(
        "refused " + what + ": the control plane sent more than the " + std::to_string(file.size) +
        " bytes the manifest says (sha256 " + file.sha256 +
        "): the file changed on the server, or the bytes were altered on the way");
  }
  if (!fetched) return fetched.error().WithContext("fetching " + what);
  if (!closed) return closed.error().WithContext("fetching " + what);
  const std::string got = (*dl)->HexDigest();
  if ((*dl)->bytes() != file.size || got != file.sha256) {
    return InvalidArgument(
        "refused " + what + ": the control plane sent " + std::to_string((*dl)->bytes()) +
        " bytes with sha256 " + got + ", the manifest says " + std::to_string(file.size) +
        " bytes with sha256 " + file.sha256 + " (the file changed on the server, or the bytes " +
        "were altered on the way)");
  }
  if (::chmod(tmp.c_str(), 0444) != 0)
    return IoError("cannot set the mode of " + Shown(tmp) + ": " + std::strerror(errno));
  // Another agent may have put the same bytes there meanwhile: same name, same content.
  if (::rename(tmp.c_str(), blob.c_str()) != 0) {
    return IoError("cannot store " + what + " in " + Shown(blob.parent_path()) + ": " +
                   std::strerror(errno));
  }
  cleanup.keep = true;
  return {};
}

Result<fs::path> ArtifactCache::Materialize(const artifacts::Tree& tree,
                                            const std::string& expected_sha256,
                                            const BlobFetch& fetch) const {
  const std::string digest = artifacts::TreeDigest(tree.files);
  if (!expected_sha256.empty() && digest != expected_sha256) {
    return InvalidArgument("the manifest's " + tree.name + " (sha256 " + digest +
                           ") is not the tree the agent-config names (" + expected_sha256 + ")");
  }
  if (auto dir = FindTree(digest)) return *dir;
  for (const artifacts::FileEntry& f : tree.files) LOTE_TRY(FetchBlob(tree, f, fetch));
  LOTE_ASSIGN_OR_RETURN(fs::path tmp, TempDir("tree-" + tree.name));
  auto drop = [&tmp] {
    std::error_code ec;
    fs::remove_all(tmp, ec);
  };
  for (const artifacts::FileEntry& f : tree.files) {
    if (auto st = LayOut(blob_path(f.sha256), tmp / f.path, f.executable); !st) {
      drop();
      return st.error().WithContext("laying out the " + tree.name);
    }
  }
  ::chmod(tmp.c_str(), 0755);
  const fs::path final_dir = root_ / "trees" / digest;
  if (::rename(tmp.c_str(), final_dir.c_str()) != 0) {
    int err = errno;
    drop();
    // Another agent laid out the same tree first: use it.
    if ((err == EEXIST || err == ENOTEMPTY) && FindTree(digest)) return final_dir;
    return IoError("cannot store the " + tree.name + " in " + Shown(final_dir) + ": " +
                   std::strerror(err));
  }
  return final_dir;
}

}  // namespace lote::agent
