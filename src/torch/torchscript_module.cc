// liblote_torch.so: TorchScript scoring behind the C ABI of
// native/torch_module_abi.h. The only source file that includes libtorch's
// headers (each such file costs ~10 s to compile), and the only code that
// links libtorch; lote's native worker dlopens it (native/torch_module.h).
//
// Every exception libtorch throws is caught here and returned as a message.
#include <ATen/Parallel.h>
#include <torch/script.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "native/torch_module_abi.h"

#define LOTE_TORCH_EXPORT extern "C" __attribute__((visibility("default")))

struct lote_torch_model {
  torch::jit::Module module;
  std::vector<float> output;
};

namespace {

void SetError(char* error, size_t size, std::string_view message) {
  if (error == nullptr || size == 0) return;
  const size_t n = std::min(size - 1, message.size());
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

// libtorch's messages without the C++ backtrace. A failure inside the model
// comes with TorchScript's tracebacks (serialized and original code, dozens
// of lines) and ends with the Python-style error line, which is the reason.
std::string Reason(const std::exception& e) {
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  std::string s = c10 != nullptr ? c10->what_without_backtrace() : e.what();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.find("Traceback of TorchScript") != std::string::npos) {
    if (auto nl = s.rfind('\n'); nl != std::string::npos) s.erase(0, nl + 1);
  }
  return s.empty() ? "unknown libtorch error" : s;
}

std::string Shape(const at::Tensor& t) {
  std::ostringstream out;
  out << '[';
  for (int64_t i = 0; i < t.dim(); ++i) out << (i > 0 ? ", " : "") << t.size(i);
  out << ']';
  return out.str();
}

// Intra-op threads are per process; inter-op threads may be set once only,
// before any parallel work.
void SetThreads(int threads) {
  static std::once_flag interop;
  std::call_once(interop, [] {
    try {
      at::set_num_interop_threads(1);
    } catch (const std::exception&) {  // already set by the process: keep it
    }
  });
  at::set_num_threads(std::max(1, threads));
}

}  // namespace

LOTE_TORCH_EXPORT int lote_torch_abi_version(void) {
  return LOTE_TORCH_ABI_VERSION;
}

LOTE_TORCH_EXPORT lote_torch_model* lote_torch_load(const char* file, int threads, char* error,
                                                    size_t error_size) {
  try {
    SetThreads(threads);
    auto model = std::make_unique<lote_torch_model>();
    model->module = torch::jit::load(file, torch::kCPU);
    model->module.eval();
    return model.release();
  } catch (const std::exception& e) {
    SetError(error, error_size, Reason(e));
  } catch (...) {
    SetError(error, error_size, "unknown exception from libtorch");
  }
  return nullptr;
}

LOTE_TORCH_EXPORT int lote_torch_predict(lote_torch_model* model, const float* values, size_t rows,
                                         size_t cols, const float** out, size_t* outputs,
                                         char* error, size_t error_size) {
  try {
    c10::InferenceMode inference;
    // A copy: a model may change its input in place, and values are the caller's.
    at::Tensor input =
        torch::from_blob(const_cast<float*>(values),
                         {static_cast<int64_t>(rows), static_cast<int64_t>(cols)}, torch::kFloat32)
            .clone();
    c10::IValue result = model->module.forward({input});
    if (!result.isTensor()) {
      SetError(error, error_size,
               "forward() returned a " + result.tagKind() +
                   ", not a tensor; lote needs one tensor of shape [rows] or [rows, k]");
      return 1;
    }
    at::Tensor t = result.toTensor();
    const bool shaped = (t.dim() == 1 || t.dim() == 2) && t.size(0) == static_cast<int64_t>(rows) &&
                        (t.dim() == 1 || t.size(1) >= 1);
    if (!shaped) {
      SetError(error, error_size,
               "forward() returned a tensor of shape " + Shape(t) + " for " + std::to_string(rows) +
                   " input rows; lote needs [" + std::to_string(rows) + "] or [" +
                   std::to_string(rows) + ", k]");
      return 1;
    }
    t = t.to(torch::kCPU, torch::kFloat32).contiguous();
    const size_t k = t.dim() == 1 ? 1 : static_cast<size_t>(t.size(1));
    const float* data = t.data_ptr<float>();
    model->output.assign(data, data + rows * k);
    *out = model->output.data();
    *outputs = k;
    return 0;
  } catch (const std::exception& e) {
    SetError(error, error_size, Reason(e));
  } catch (...) {
    SetError(error, error_size, "unknown exception from libtorch");
  }
  return 1;
}

LOTE_TORCH_EXPORT void lote_torch_free(lote_torch_model* model) {
  delete model;
}
