#include "exe/worker_command.h"

#include <fcntl.h>
#include <malloc.h>

#include <iostream>

#include "native/native_worker.h"

namespace lote {

namespace {

int RunWorkerCommand() {
  // Mini-batches allocate and free buffers of megabytes (parsed values, output
  // rows): keep them in the heap for reuse instead of mmap/munmap'ing fresh,
  // zeroed pages each time (glibc's largest mmap threshold is 32 MiB).
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 128 << 20);
  auto options = native::NativeWorkerOptionsFromEnv();
  if (!options) {
    std::cerr << "lote worker: error: " << options.error().message() << "\n";
    return native::kWorkerExitProtocolError;
  }
  // The protocol pipes belong to this process alone: nothing it starts gets them.
  for (int fd : {options->in_fd, options->out_fd}) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
  return native::RunNativeWorker(*options);
}

}  // namespace

void AddWorkerCommand(CLI::App& app, cli::CommandContext& ctx) {
  auto* cmd = app.add_subcommand(
      "worker", "Run the native scoring worker (started by `lote agent`, not by hand)");
  cmd->footer(
      "Speaks the worker protocol on LOTE_PROTOCOL_IN_FD / LOTE_PROTOCOL_OUT_FD. Exit codes: 0 "
      "after shutdown or when the agent is gone, 1 the model could not be loaded (init_failed), "
      "2 protocol error.");
  cmd->callback([&ctx] { ctx.exit_code = RunWorkerCommand(); });
}

}  // namespace lote
