// An XGBoost booster loaded through libxgboost's C API, for inplace
// prediction on dense float matrices (a TabularModel).
//
// Load() reads a model file in any format XGBoosterLoadModel knows: JSON
// (.json), UBJSON (.ubj) and the legacy binary format (.model, .xgb, .bst —
// MLflow's model.xgb). The booster predicts with `threads` OpenMP threads
// (0: libxgboost's default, every core), so that workers × threads can be
// sized to the machine.
//
// Predict() is XGBoosterPredictFromDense with missing = NaN, the default
// output type (probabilities for classifiers, as Python's Booster.predict),
// and no tree limit. Every C API error becomes an Error naming the model
// file: "XGBoost model '<file>': <XGBGetLastError()>".
//
// Thread-compatible: one XgboostModel per thread (the booster keeps its
// prediction buffer between calls).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "native/tabular_model.h"

namespace lote::native {

class XgboostModel final : public TabularModel {
 public:
  struct Options {
    std::filesystem::path model_file;
    int threads = 0;  // 0: libxgboost's default
  };

  // Errors: NotFound when the file does not exist; InvalidArgument when
  // libxgboost cannot load it (a corrupt or foreign file).
  static Result<std::unique_ptr<XgboostModel>> Load(const Options& options);
  ~XgboostModel() override;
  XgboostModel(const XgboostModel&) = delete;
  XgboostModel& operator=(const XgboostModel&) = delete;

  const std::filesystem::path& model_file() const override { return file_; }
  const char* library() const override { return "XGBoost"; }
  uint64_t num_features() const override { return num_features_; }
  // The feature names saved with the model (JSON and UBJSON models trained on
  // a DataFrame); empty when it has none.
  const std::vector<std::string>& feature_names() const override { return feature_names_; }

  // Predicts `rows` rows of `cols` floats each (row-major; NaN is missing).
  // cols must equal num_features() (InvalidArgument otherwise).
  Result<Predictions> Predict(const float* values, size_t rows, size_t cols) override;

 private:
  XgboostModel() = default;
  Error ApiError(std::string_view what) const;

  std::filesystem::path file_;
  void* booster_ = nullptr;  // BoosterHandle
  uint64_t num_features_ = 0;
  std::vector<std::string> feature_names_;
};

}  // namespace lote::native
