// Shared by the TorchScript unit tests: the models, CSV inputs and expected
// predictions that tests/native/make_torch_models.py generates with
// python3-torch.
//
// ctest runs each test in a process of its own, and making the models takes
// python3 + torch ~2.5 s, so they are made once per version of the script
// into test-cache/ beside the test binary (a build output), and reused.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "../unit/runtime_stub_worker.h"
#include "native/torch_module.h"

namespace lote::testing {

// The folder of generated files, or an empty path when /usr/bin/python3
// lacks torch.
inline const std::filesystem::path& TorchModels() {
  namespace fs = std::filesystem;
  static const fs::path result = []() -> fs::path {
    const fs::path script = fs::path(__FILE__).parent_path() / "make_torch_models.py";
    char key[32];
    std::snprintf(key, sizeof key, "%016zx", std::hash<std::string>{}(Slurp(script)));
    const fs::path dir = fs::read_symlink("/proc/self/exe").parent_path() / "test-cache" /
                         (std::string("torch-models-") + key);
    std::error_code ec;
    if (fs::exists(dir / "done", ec)) return dir;
    if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) return {};
    // Made aside and renamed, so a test process beside this one never sees
    // half of it.
    const fs::path tmp = dir.string() + ".tmp-" + std::to_string(::getpid());
    fs::create_directories(tmp, ec);
    const std::string cmd =
        "/usr/bin/python3 '" + script.string() + "' '" + tmp.string() + "' >/dev/null";
    if (std::system(cmd.c_str()) != 0) {
      ADD_FAILURE() << "make_torch_models.py failed: " << cmd;
      fs::remove_all(tmp, ec);
      return {};
    }
    std::ofstream(tmp / "done") << "made by " << script.string() << "\n";
    fs::rename(tmp, dir, ec);
    if (ec) fs::remove_all(tmp, ec);  // another process made it first
    return dir;
  }();
  return result;
}

// Skips a test unless lote was built with its libtorch module and
// /usr/bin/python3 can make the models.
#define LOTE_NEED_TORCH()                                              \
  do {                                                                 \
    if (auto st = ::lote::native::TorchRuntimeStatus(); !st) {         \
      GTEST_SKIP() << st.error().message();                            \
    }                                                                  \
    if (::lote::testing::TorchModels().empty()) {                      \
      GTEST_SKIP() << "/usr/bin/python3 has no torch (python3-torch)"; \
    }                                                                  \
  } while (0)

}  // namespace lote::testing
