// Where lote's libtorch module (liblote_torch.so, built from src/torch/ when
// Debian's libtorch-dev is installed) is, and opening it.
//
// lote does not link libtorch: the native worker dlopens the module only to
// score a TorchScript model (C ABI: native/torch_module_abi.h). The module is
// looked for, in order:
//   1. $LOTE_TORCH_MODULE, when set: that path only (a path that does not
//      exist makes TorchScript unavailable, which tests use);
//   2. liblote_torch.so in the directory of the running executable;
//   3. the path the build wrote it to (none in a build without libtorch).
//
// The server checks that the module exists before it accepts a TorchScript
// deployment, without loading it (loading libtorch takes ~0.5 s and ~160 MB).
// Functions here are thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "common/status.h"
#include "native/torch_module_abi.h"

namespace lote::native {

inline constexpr const char* kTorchModuleName = "liblote_torch.so";

struct TorchModuleLocations {
  std::optional<std::filesystem::path> override_path;  // $LOTE_TORCH_MODULE
  std::filesystem::path exe_dir;                       // empty: not looked at
  std::filesystem::path build_path;                    // empty: built without libtorch
};

// The locations of this process: the environment, /proc/self/exe, the build.
TorchModuleLocations DefaultTorchModuleLocations();

// The first location where the module exists. FailedPrecondition otherwise:
// "TorchScript models need lote's libtorch module, which this build lacks
// (<where it looked>); install Debian's libtorch-dev and rebuild with
// ./setup.sh".
Result<std::filesystem::path> FindTorchModule(const TorchModuleLocations& where);

// OK when this process can score TorchScript models, else the error above.
Status TorchRuntimeStatus();

// An opened module whose ABI version matches and whose functions are all
// present. It stays loaded until the process exits, whatever happens to this
// object (RTLD_NODELETE): libtorch does not support being unloaded.
class TorchModule {
 public:
  struct Functions {
    lote_torch_model* (*load)(const char*, int, char*, size_t) = nullptr;
    int (*predict)(lote_torch_model*, const float*, size_t, size_t, const float**, size_t*, char*,
                   size_t) = nullptr;
    void (*free)(lote_torch_model*) = nullptr;
  };

  // Errors (FailedPrecondition, naming the path): dlopen's message (e.g. the
  // libtorch it was built against is gone), a missing function, another ABI
  // version.
  static Result<std::shared_ptr<const TorchModule>> Open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  const Functions& functions() const { return fn_; }

 private:
  TorchModule() = default;
  std::filesystem::path path_;
  Functions fn_;
};

}  // namespace lote::native
