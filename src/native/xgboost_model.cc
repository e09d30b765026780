#include "native/xgboost_model.h"

#include <xgboost/c_api.h>

#include <string_view>

namespace lote::native {

namespace fs = std::filesystem;

// libxgboost 1.7 needs "cache_id": 0 for inplace prediction; "missing" is
// NaN, which its JSON reader accepts (as Python's json.dumps writes it).
constexpr std::string_view kPredictConfig =
    R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, )"
    R"("strict_shape": false, "cache_id": 0, "missing": NaN})";

namespace {

// XGBGetLastError() is "[12:00:00] ./src/common/json.cc:407: <reason>\nStack
// trace: …": the reason alone is for users.
std::string LastXgboostError() {
  const char* raw = XGBGetLastError();
  std::string s = raw != nullptr ? raw : "";
  if (auto trace = s.find("Stack trace:"); trace != std::string::npos) s.resize(trace);
  if (s.starts_with('[')) {
    if (auto close = s.find("] "); close != std::string::npos) s.erase(0, close + 2);
  }
  // "./src/…/file.cc:407: " — a source location, when there is one.
  if (auto colon = s.find(": "); colon != std::string::npos && colon < 120) {
    std::string_view loc(s.data(), colon);
    auto line = loc.rfind(':');
    if (line != std::string_view::npos && loc.find(".cc") != std::string_view::npos) {
      s.erase(0, colon + 2);
    }
  }
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.empty() ? "unknown error" : s;
}

}  // namespace

Error XgboostModel::ApiError(std::string_view what) const {
  return InvalidArgument("XGBoost model '" + file_.string() + "': " + std::string(what) + ": " +
                         LastXgboostError());
}

Result<std::unique_ptr<XgboostModel>> XgboostModel::Load(const Options& options) {
  std::unique_ptr<XgboostModel> m(new XgboostModel());
  m->file_ = options.model_file;
  std::error_code ec;
  if (!fs::is_regular_file(m->file_, ec)) {
    return NotFound("XGBoost model '" + m->file_.string() + "' does not exist");
  }
  BoosterHandle h = nullptr;
  if (XGBoosterCreate(nullptr, 0, &h) != 0) return m->ApiError("cannot create a booster");
  m->booster_ = h;
  if (XGBoosterLoadModel(h, m->file_.c_str()) != 0) return m->ApiError("cannot load");
  if (options.threads > 0 &&
      XGBoosterSetParam(h, "nthread", std::to_string(options.threads).c_str()) != 0) {
    return m->ApiError("cannot set nthread");
  }
  bst_ulong n = 0;
  if (XGBoosterGetNumFeature(h, &n) != 0) return m->ApiError("cannot read the feature count");
  m->num_features_ = n;
  bst_ulong len = 0;
  const char** names = nullptr;
  if (XGBoosterGetStrFeatureInfo(h, "feature_name", &len, &names) != 0) {
    return m->ApiError("cannot read the feature names");
  }
  for (bst_ulong i = 0; i < len; ++i) m->feature_names_.emplace_back(names[i]);
  return m;
}

XgboostModel::~XgboostModel() {
  if (booster_ != nullptr) XGBoosterFree(static_cast<BoosterHandle>(booster_));
}

Result<Predictions> XgboostModel::Predict(const float* values, size_t rows, size_t cols) {
  if (cols != num_features_) {
    return InvalidArgument("XGBoost model '" + file_.string() + "' takes " +
                           std::to_string(num_features_) + " features, got " +
                           std::to_string(cols));
  }
  Predictions out;
  if (rows == 0) return out;
  const std::string array_interface =
      R"({"data": [)" + std::to_string(reinterpret_cast<uintptr_t>(values)) +
      R"(, true], "shape": [)" + std::to_string(rows) + ", " + std::to_string(cols) +
      R"(], "typestr": "<f4", "version": 3})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  if (XGBoosterPredictFromDense(static_cast<BoosterHandle>(booster_), array_interface.c_str(),
                                std::string(kPredictConfig).c_str(), nullptr, &shape, &dim,
                                &result) != 0) {
    return ApiError("prediction failed");
  }
  size_t total = 1;
  for (bst_ulong i = 0; i < dim; ++i) total *= shape[i];
  if (dim == 0 || shape[0] != rows || total % rows != 0) {
    return Internal("XGBoost model '" + file_.string() + "': prediction of " +
                    std::to_string(rows) + " rows returned " + std::to_string(total) + " values");
  }
  out.rows = rows;
  out.outputs = total / rows;
  out.values.assign(result, result + total);
  return out;
}

}  // namespace lote::native
