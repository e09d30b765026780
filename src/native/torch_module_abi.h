/* The internal C ABI between lote's native worker and liblote_torch.so, the
 * one library that links libtorch (built from src/torch/). lote itself does
 * not link libtorch, which costs ~0.45 s and ~160 MB to load: the native
 * worker dlopens the module only when a job scores a TorchScript model
 * (native/torch_module.h).
 *
 * Not a user-facing ABI: the module and lote are built together, and the
 * version check only catches a stale module next to a newer lote.
 *
 * Lifecycle: lote_torch_load once per model, lote_torch_predict per chunk of
 * rows, lote_torch_free. One model is used by one thread at a time.
 *
 * Errors: a function that fails writes a NUL-terminated message of at most
 * error_size bytes (libtorch's message without its C++ backtrace; for a
 * failure inside the model, TorchScript's last line, such as "RuntimeError:
 * mat1 and mat2 shapes cannot be multiplied (5x9 and 8x16)") and returns
 * NULL or non-zero. No exception crosses this boundary. */
#ifndef LOTE_NATIVE_TORCH_MODULE_ABI_H_
#define LOTE_NATIVE_TORCH_MODULE_ABI_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LOTE_TORCH_ABI_VERSION 1

typedef struct lote_torch_model lote_torch_model;

/* LOTE_TORCH_ABI_VERSION of the module. */
int lote_torch_abi_version(void);

/* Loads a file written by torch.jit.save onto the CPU, in eval mode. The
 * process's libtorch runs with `threads` intra-op threads (> 0) and one
 * inter-op thread. */
lote_torch_model* lote_torch_load(const char* file, int threads, char* error, size_t error_size);

/* Runs forward() on a float32 tensor [rows, cols] made from `values`
 * (row-major; NaN stays NaN) under inference mode. The result must be one
 * tensor of shape [rows] or [rows, k] (k >= 1); it is converted to
 * contiguous float32 on the CPU. On success *out points at rows × *outputs
 * floats owned by the model, valid until its next predict or free. */
int lote_torch_predict(lote_torch_model* model, const float* values, size_t rows, size_t cols,
                       const float** out, size_t* outputs, char* error, size_t error_size);

void lote_torch_free(lote_torch_model* model);

#ifdef __cplusplus
}
#endif

#endif /* LOTE_NATIVE_TORCH_MODULE_ABI_H_ */
