#include "native/torch_module.h"

#include <dlfcn.h>

#include <cstdlib>
#include <string>

#include "common/util.h"

// CMake defines it as the module's build output, or "" without libtorch.
#ifndef LOTE_TORCH_MODULE_PATH
#define LOTE_TORCH_MODULE_PATH ""
#endif

namespace lote::native {

namespace fs = std::filesystem;

namespace {

bool IsFile(const fs::path& p) {
  std::error_code ec;
  return !p.empty() && fs::is_regular_file(p, ec);
}

}  // namespace

TorchModuleLocations DefaultTorchModuleLocations() {
  TorchModuleLocations where;
  if (const char* env = std::getenv("LOTE_TORCH_MODULE"); env != nullptr && *env != '\0') {
    where.override_path = fs::path(env);
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) where.exe_dir = exe.parent_path();
  where.build_path = LOTE_TORCH_MODULE_PATH;
  return where;
}

Result<fs::path> FindTorchModule(const TorchModuleLocations& where) {
  std::string looked;
  if (where.override_path) {
    if (IsFile(*where.override_path)) return *where.override_path;
    looked = "LOTE_TORCH_MODULE names " + Quote(where.override_path->string()) +
             ", which does not exist";
  } else {
    std::string places;
    auto consider = [&places](const fs::path& p) {
      if (p.empty()) return false;
      if (IsFile(p)) return true;
      places += (places.empty() ? "" : ", ") + Quote(p.string());
      return false;
    };
    const fs::path beside = where.exe_dir.empty() ? fs::path() : where.exe_dir / kTorchModuleName;
    if (consider(beside)) return beside;
    if (consider(where.build_path)) return where.build_path;
    looked = places.empty() ? std::string("no place to look for ") + kTorchModuleName
                            : "no " + std::string(kTorchModuleName) + " at " + places;
  }
  return FailedPrecondition(
      "TorchScript models need lote's libtorch module, which this build "
      "lacks (" +
      looked +
      "); install Debian's libtorch-dev and rebuild "
      "with ./setup.sh");
}

Status TorchRuntimeStatus() {
  LOTE_TRY(FindTorchModule(DefaultTorchModuleLocations()));
  return {};
}

Result<std::shared_ptr<const TorchModule>> TorchModule::Open(const fs::path& path) {
  const std::string where = "libtorch module " + Quote(path.string());
  ::dlerror();  // clear a stale error
  // Opening it again returns the same handle; it is never closed.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    const char* e = ::dlerror();
    return FailedPrecondition(where + " cannot be loaded: " + (e != nullptr ? e : "dlopen failed"));
  }
  auto symbol = [&](const char* name) -> Result<void*> {
    ::dlerror();
    void* sym = ::dlsym(handle, name);
    if (sym == nullptr) return FailedPrecondition(where + " lacks " + name + "()");
    return sym;
  };
  LOTE_ASSIGN_OR_RETURN(void* version, symbol("lote_torch_abi_version"));
  const int abi = reinterpret_cast<int (*)()>(version)();
  if (abi != LOTE_TORCH_ABI_VERSION) {
    return FailedPrecondition(where + " has ABI version " + std::to_string(abi) + ", this lote " +
                              std::to_string(LOTE_TORCH_ABI_VERSION) +
                              "; rebuild both with ./setup.sh");
  }
  std::shared_ptr<TorchModule> m(new TorchModule());
  m->path_ = path;
  LOTE_ASSIGN_OR_RETURN(void* load, symbol("lote_torch_load"));
  LOTE_ASSIGN_OR_RETURN(void* predict, symbol("lote_torch_predict"));
  LOTE_ASSIGN_OR_RETURN(void* free, symbol("lote_torch_free"));
  m->fn_.load = reinterpret_cast<decltype(m->fn_.load)>(load);
  m->fn_.predict = reinterpret_cast<decltype(m->fn_.predict)>(predict);
  m->fn_.free = reinterpret_cast<decltype(m->fn_.free)>(free);
  return m;
}

}  // namespace lote::native
