// The native C++ worker: serves docs/worker-protocol.md (version 1) with
// runtime "native", scoring tabular data with a TabularScorer
// (native/tabular_scorer.h, which documents the init options and the output
// rows; XGBoost and TorchScript models), or, when the init options' kind is "plugin", with a user's shared
// library (include/lote/plugin.h; options in native/plugin_loader.h).
//
// Lifecycle: hello → init (the model is loaded once) → ready | init_failed →
// run* → shutdown. One mini-batch at a time; the loop is single-threaded
// (libxgboost or libtorch uses options.threads threads inside a prediction).
// libtorch is loaded (dlopen of lote's libtorch module) only by a worker
// whose init asks for a TorchScript model.
//
// Errors are handled and reported, never thrown: a model that cannot be
// loaded is init_failed (exit 1); bad input files and rows are item errors in
// the result; a plugin's failed run is run_failed (the worker goes on); a
// message the worker does not expect or a broken frame is a protocol error (a
// line on stderr, exit 2). End of file on the input pipe
// (the agent is gone) ends the worker with 0, as after shutdown.
#pragma once

#include <ostream>

#include "common/status.h"

namespace lote::native {

struct NativeWorkerOptions {
  int in_fd = -1;               // agent → worker
  int out_fd = -1;              // worker → agent
  std::ostream* log = nullptr;  // diagnostics (stderr when null)
};

inline constexpr int kWorkerExitOk = 0;
inline constexpr int kWorkerExitInitFailed = 1;
inline constexpr int kWorkerExitProtocolError = 2;

// Runs the worker on the two descriptors until shutdown or end of input.
// Returns the process exit status.
int RunNativeWorker(const NativeWorkerOptions& options);

// The descriptors named by LOTE_PROTOCOL_IN_FD / LOTE_PROTOCOL_OUT_FD.
// InvalidArgument when a variable is unset or not an open descriptor.
Result<NativeWorkerOptions> NativeWorkerOptionsFromEnv();

}  // namespace lote::native
