// Assembling a job's output while it runs, so that little is left for the
// end: the scheduler starts a pass on the finalization pool now and then
// (AssemblyPass); each appends, in input order, the rows of the mini-batches
// committed since the last one, up to the first that is still pending or
// leased, and starts their writeback to disk. When the job finalizes, the
// final assembly takes the cursor (Take) and goes on from there; when the job
// ends any other way, the file is removed (Discard).
//
// Nothing here is needed for correctness: the cursor lives in memory only, a
// pass that meets any trouble gives up (the final assembly then starts over,
// as after a restart of the server), and the final assembly takes the cursor
// only if its file is still what it says (output_assembly.h).
#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <string>

#include "jobs/job_files.h"
#include "jobs/output_assembly.h"
#include "store/job_store.h"

namespace lote::jobs {

class EarlyAssembly {
 public:
  EarlyAssembly(JobDir dir, std::string job, OutputPlace place)
      : dir_(std::move(dir)), job_(std::move(job)), place_(std::move(place)) {}

  // Whether a pass may start now: none in flight, not stopped, not given up,
  // and at least min_gap_ms since the last one began. Claims the slot: the
  // caller runs Pass next.
  bool TryClaim(int64_t now_ms, int64_t min_gap_ms);
  // One pass (on a pool thread). header: the job's output header as
  // recorded. An error gives up early assembly for this job; it is returned
  // for the log and changes nothing else.
  Status Pass(store::JobStore& store, const std::optional<std::string>& header);
  // Stops passes (the one in flight returns after its current mini-batch)
  // and hands over the cursor, if any is usable.
  std::optional<AssemblyCursor> Take();
  // Stops passes and removes the file.
  Status Discard();

 private:
  const JobDir dir_;
  const std::string job_;
  const OutputPlace place_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> busy_{false};
  std::atomic<int64_t> last_start_ms_{0};
  std::mutex mu_;  // held by a pass, Take and Discard
  bool given_up_ = false;
  std::optional<AssemblyCursor> cursor_;
};

}  // namespace lote::jobs
