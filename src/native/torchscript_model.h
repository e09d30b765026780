// A TorchScript model (a file written by torch.jit.save) scored on the CPU
// through lote's libtorch module (native/torch_module.h), so that nothing in
// lote links libtorch.
//
// Load() opens the module and loads the model once; libtorch then predicts
// with `threads` intra-op threads (0: one per core) and one inter-op thread,
// set explicitly because Debian's libtorch defaults to 1. Predict() is one
// forward() on a float32 tensor [rows, cols] (NaN for missing cells); the
// model must return one tensor of shape [rows] (one output) or [rows, k].
// The module takes whatever number of features the input has
// (num_features() is 0): a model that cannot take the input fails in
// forward() with libtorch's reason.
//
// Errors name the model file: "TorchScript model '<file>': <reason>";
// FailedPrecondition when the module is missing or cannot be loaded.
// Thread-compatible: one model per thread.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "native/tabular_model.h"
#include "native/torch_module.h"

namespace lote::native {

class TorchscriptModel final : public TabularModel {
 public:
  struct Options {
    std::filesystem::path model_file;
    int threads = 0;  // 0: one per core
    // The libtorch module; empty: FindTorchModule(DefaultTorchModuleLocations()).
    std::filesystem::path module;
  };

  static Result<std::unique_ptr<TorchscriptModel>> Load(const Options& options);
  ~TorchscriptModel() override;
  TorchscriptModel(const TorchscriptModel&) = delete;
  TorchscriptModel& operator=(const TorchscriptModel&) = delete;

  const std::filesystem::path& model_file() const override { return file_; }
  const char* library() const override { return "TorchScript"; }
  uint64_t num_features() const override { return 0; }
  const std::vector<std::string>& feature_names() const override { return no_names_; }
  Result<Predictions> Predict(const float* values, size_t rows, size_t cols) override;

 private:
  TorchscriptModel() = default;

  std::filesystem::path file_;
  std::shared_ptr<const TorchModule> module_;
  lote_torch_model* model_ = nullptr;
  std::vector<std::string> no_names_;
};

}  // namespace lote::native
