// A model that scores dense float rows: what TabularScorer (native/
// tabular_scorer.h) predicts with, whatever library runs it. Implemented by
// XgboostModel (libxgboost) and TorchscriptModel (libtorch, through the
// dlopen'ed module of native/torch_module.h).
//
// Errors from Predict name the model file. Thread-compatible: one model per
// thread (implementations keep buffers between calls).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"

namespace lote::native {

struct Predictions {
  size_t rows = 0;
  size_t outputs = 0;         // values per row: 1, or the classes of a multi-class model
  std::vector<float> values;  // rows × outputs, row-major
};

class TabularModel {
 public:
  virtual ~TabularModel() = default;

  virtual const std::filesystem::path& model_file() const = 0;
  // The library's name for messages: "XGBoost", "TorchScript".
  virtual const char* library() const = 0;
  // The features a row must have; 0 when the model does not say (a
  // TorchScript module takes whatever tensor it is given), and the input
  // decides.
  virtual uint64_t num_features() const = 0;
  // The feature names saved with the model; empty when it has none.
  virtual const std::vector<std::string>& feature_names() const = 0;

  // Predicts `rows` rows of `cols` floats each (row-major; NaN is missing).
  // Every row gets the same number of outputs.
  virtual Result<Predictions> Predict(const float* values, size_t rows, size_t cols) = 0;
};

}  // namespace lote::native
