// Datastore paths (storage/safe_path.h NormalizeRelativePath and SafeJoin;
// storage/beneath.h Beneath) on any relative path: every datastore route and
// job input and output names one. Input: the path.
//
// The fixture is a scratch folder `outer/` (in /dev/shm where it can be;
// removed at exit, though not after a crash) holding `secret` and the
// datastore root `outer/root/`: folders `data/in/`, a file `data/a.csv`, a
// FIFO, and links that stay inside (`inlink` -> data, `abslink` ->
// <root>/data) or lead out (`out` -> .., `absout` -> <outer>, `uplink` ->
// data/../..), a loop and a dangling link. Links lead out to `outer/`, never
// to `/`, so an escape is seen (a file appears beside `secret`) and harms
// nothing.
//
// Invariants: nothing crashes or throws; NormalizeRelativePath returns a
// normal form (no "..", ".", empty segment, leading or trailing '/', NUL)
// that it accepts back unchanged; SafeJoin's result is root / that normal
// form and resolves, links followed, inside the root; Beneath, with openat2
// and with its fallback walk alike, refuses what NormalizeRelativePath
// refuses, and whatever it stats, opens or lists resolves inside the root; the
// two resolutions agree on what succeeds, its real path and the error code;
// creating a file or folders beneath the root (CreateNew + Commit, MakeDirs)
// never writes outside it. The root is put back as it was after every input.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <set>
#include <string>

#include "fuzz_util.h"
#include "storage/beneath.h"
#include "storage/safe_path.h"

using lote::fuzz::FuzzCheck;
namespace fs = std::filesystem;
namespace storage = lote::storage;

namespace {

struct Fixture {
  fs::path outer;
  fs::path root;
  std::string real_root;  // canonical
  std::set<fs::path> entries;  // the root's tree as made, links not followed
  std::optional<storage::Beneath> kernel, walk;

  Fixture() {
    // In memory where there is a tmpfs: every input creates and removes
    // files, which on a disk waits for the journal (10x slower).
    std::error_code ec;
    const fs::path base = fs::is_directory("/dev/shm", ec) && access("/dev/shm", W_OK) == 0
                              ? fs::path("/dev/shm")
                              : fs::temp_directory_path();
    std::string tmpl = (base / "lote-fuzz-root-XXXXXX").string();
    FuzzCheck(mkdtemp(tmpl.data()) != nullptr, "mkdtemp failed");
    outer = tmpl;
    root = outer / "root";
    fs::create_directories(root / "data" / "in");
    Touch(outer / "secret");
    Touch(root / "data" / "a.csv");
    FuzzCheck(mkfifo((root / "fifo").c_str(), 0600) == 0, "mkfifo failed");
    fs::create_directory_symlink("data", root / "inlink");
    fs::create_directory_symlink(root / "data", root / "abslink");
    fs::create_directory_symlink("..", root / "out");
    fs::create_directory_symlink(outer, root / "absout");
    fs::create_directory_symlink("data/../..", root / "uplink");
    fs::create_symlink("loop", root / "loop");
    fs::create_symlink("nope", root / "dangling");
    real_root = fs::canonical(root).string();
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
      entries.insert(it->path());
    }
    auto k = storage::Beneath::Open(root, "the fuzz root");
    auto w = storage::Beneath::Open(root, "the fuzz root", {.use_openat2 = false});
    FuzzCheck(k && w, "Beneath::Open failed on the fixture");
    kernel.emplace(std::move(*k));
    walk.emplace(std::move(*w));
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(outer, ec);
  }
  static void Touch(const fs::path& p) {
    FILE* f = std::fopen(p.c_str(), "w");
    FuzzCheck(f != nullptr, "cannot create the fixture");
    std::fclose(f);
  }

  // Nothing was written beside the root; whatever was created under it goes.
  void CheckAndRestore(const std::string& rel) {
    for (const auto& e : fs::directory_iterator(outer)) {
      FuzzCheck(e.path() == root || e.path() == outer / "secret",
                "writing '" + rel + "' beneath the root created " + e.path().string() + " outside it");
    }
    std::vector<fs::path> extra;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
      if (!entries.contains(it->path())) {
        extra.push_back(it->path());
        it.disable_recursion_pending();
      }
    }
    for (const auto& p : extra) fs::remove_all(p);
  }
};

bool Inside(const std::string& p, const std::string& root) {
  return p == root || (p.size() > root.size() && p.starts_with(root) && p[root.size()] == '/');
}

// What the same call gives through openat2 and through the walk must agree.
template <class T>
void CheckAgree(const lote::Result<T>& a, const lote::Result<T>& b, const std::string& what) {
  FuzzCheck(a.has_value() == b.has_value(), what + ": openat2 and the walk disagree: " +
                                                (a ? std::string("ok") : a.error().message()) + " vs " +
                                                (b ? std::string("ok") : b.error().message()));
  if (!a) FuzzCheck(a.error().code() == b.error().code(), what + ": different errors: " + a.error().message() +
                                                               " vs " + b.error().message());
}

void CheckBeneath(Fixture& fx, const storage::Beneath& b, std::string_view rel, bool normal) {
  const std::string r(rel);
  auto stat = b.Stat(rel);
  FuzzCheck(normal || !stat, "Beneath::Stat accepts '" + r + "', which NormalizeRelativePath refuses");
  if (stat) {
    FuzzCheck(Inside(stat->resolved.string(), fx.real_root), "Stat('" + r + "') resolves to " +
                                                                  stat->resolved.string() + ", outside the root");
  }
  auto file = b.OpenRead(rel);
  if (file) {
    FuzzCheck(stat && stat->type == storage::EntryType::kFile, "OpenRead opens what is not a file: " + r);
    FuzzCheck(file->resolved == stat->resolved, "OpenRead and Stat resolve '" + r + "' differently");
  }
  auto list = b.List(rel);
  if (list) {
    FuzzCheck(stat && stat->type == storage::EntryType::kDir, "List lists what is not a folder: " + r);
    for (const auto& e : *list) {
      FuzzCheck(!e.name.empty() && e.name.find('/') == std::string::npos, "a listed name is not one name");
      FuzzCheck(e.error || Inside(e.resolved, fx.real_root),
                "List('" + r + "') gives " + e.resolved + ", outside the root");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fx;
  std::string_view rel(reinterpret_cast<const char*>(data), size);
  const std::string r(rel);
  auto norm = storage::NormalizeRelativePath(rel);
  auto joined = storage::SafeJoin(fx.root, rel);
  if (!norm) {
    FuzzCheck(norm.error().code() == lote::ErrorCode::kInvalidArgument, "not InvalidArgument");
    FuzzCheck(!joined, "SafeJoin accepts what NormalizeRelativePath refuses");
  } else {
    const std::string& n = *norm;
    FuzzCheck(n.find('\0') == std::string::npos, "NUL in a normalized path");
    FuzzCheck(n.empty() || (n.front() != '/' && n.back() != '/'), "a leading or trailing '/'");
    FuzzCheck(n.find("//") == std::string::npos, "an empty segment");
    for (size_t start = 0; start <= n.size();) {
      size_t end = std::min(n.find('/', start), n.size());
      std::string_view seg = std::string_view(n).substr(start, end - start);
      FuzzCheck(n.empty() || (seg != "." && seg != ".." && !seg.empty()), "a '.' or '..' segment");
      start = end + 1;
    }
    auto again = storage::NormalizeRelativePath(n);
    FuzzCheck(again.has_value() && *again == n,
              "NormalizeRelativePath is not idempotent: '" + r + "' -> '" + n + "' -> " +
                  (again ? "'" + *again + "'" : "refused: " + again.error().message()));
    if (joined) {
      FuzzCheck(*joined == (n.empty() ? fx.root : fx.root / n), "SafeJoin is not root / normalized");
      std::error_code ec;
      fs::path real = fs::weakly_canonical(*joined, ec);
      FuzzCheck(ec || Inside(real.string(), fx.real_root),
                "SafeJoin accepted '" + n + "', which resolves to " + real.string() + ", outside the root");
    } else {
      FuzzCheck(joined.error().code() != lote::ErrorCode::kInternal, "SafeJoin: " + joined.error().message());
    }
  }

  CheckBeneath(fx, *fx.kernel, rel, norm.has_value());
  CheckBeneath(fx, *fx.walk, rel, norm.has_value());
  {
    auto a = fx.kernel->Stat(rel);
    auto b = fx.walk->Stat(rel);
    CheckAgree(a, b, "Stat('" + r + "')");
    if (a && b) FuzzCheck(a->resolved == b->resolved, "openat2 and the walk resolve '" + r + "' differently");
  }
  if (!norm) return 0;

  // Writes: a new file, then folders, each undone at once.
  for (const storage::Beneath* b : {&*fx.kernel, &*fx.walk}) {
    auto created = b->CreateNew(rel);
    if (created) {
      FuzzCheck(Inside(created->resolved().string(), fx.real_root),
                "CreateNew('" + r + "') would write " + created->resolved().string());
      // A failed commit is an answer too (a racing name); what matters is
      // where it wrote, which CheckAndRestore sees.
      auto st = created->Commit(lote::Durability::kUnsynced);
      FuzzCheck(st || st.error().code() != lote::ErrorCode::kInternal, "Commit: " + (st ? "" : st.error().message()));
    }
    fx.CheckAndRestore(r);
    auto dirs = b->MakeDirs(rel);
    if (dirs) {
      FuzzCheck(Inside(dirs->string(), fx.real_root), "MakeDirs('" + r + "') made " + dirs->string());
    }
    fx.CheckAndRestore(r);
  }
  return 0;
}
