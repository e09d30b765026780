#include "native/torchscript_model.h"

#include <thread>

namespace lote::native {

namespace fs = std::filesystem;

namespace {

constexpr size_t kErrorBytes = 4096;

}  // namespace

Result<std::unique_ptr<TorchscriptModel>> TorchscriptModel::Load(const Options& options) {
  std::unique_ptr<TorchscriptModel> m(new TorchscriptModel());
  m->file_ = options.model_file;
  const std::string what = "TorchScript model '" + m->file_.string() + "'";
  std::error_code ec;
  if (!fs::is_regular_file(m->file_, ec)) return NotFound(what + " does not exist");
  fs::path module = options.module;
  if (module.empty()) {
    LOTE_ASSIGN_OR_RETURN(module, FindTorchModule(DefaultTorchModuleLocations()));
  }
  LOTE_ASSIGN_OR_RETURN(m->module_, TorchModule::Open(module));
  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  char error[kErrorBytes] = "";
  m->model_ = m->module_->functions().load(m->file_.c_str(), threads, error, sizeof error);
  if (m->model_ == nullptr) return InvalidArgument(what + " cannot be loaded: " + error);
  return m;
}

TorchscriptModel::~TorchscriptModel() {
  if (model_ != nullptr) module_->functions().free(model_);
}

Result<Predictions> TorchscriptModel::Predict(const float* values, size_t rows, size_t cols) {
  Predictions out;
  if (rows == 0) return out;
  const float* result = nullptr;
  size_t outputs = 0;
  char error[kErrorBytes] = "";
  if (module_->functions().predict(model_, values, rows, cols, &result, &outputs, error,
                                   sizeof error) != 0) {
    return InvalidArgument("TorchScript model '" + file_.string() + "': " + error);
  }
  out.rows = rows;
  out.outputs = outputs;
  out.values.assign(result, result + rows * outputs);
  return out;
}

}  // namespace lote::native
