#include "jobs/early_assembly.h"

namespace lote::jobs {

bool EarlyAssembly::TryClaim(int64_t now_ms, int64_t min_gap_ms) {
  if (stop_.load() || now_ms - last_start_ms_.load() < min_gap_ms) return false;
  if (busy_.exchange(true)) return false;
  {
    std::lock_guard lock(mu_);
    if (given_up_) {
      busy_.store(false);
      return false;
    }
  }
  last_start_ms_.store(now_ms);
  return true;
}

Status EarlyAssembly::Pass(store::JobStore& store, const std::optional<std::string>& header) {
  std::lock_guard lock(mu_);
  struct Release {
    std::atomic<bool>& busy;
    ~Release() { busy.store(false); }
  } release{busy_};
  if (stop_.load() || given_up_) return {};
  auto give_up = [&](const Error& e) -> Status {
    given_up_ = true;
    cursor_.reset();
    // Its space is given back at once (a full disk is one way to get here).
    Error out = e.WithContext("assembling the output while the job runs (the final assembly starts over)");
    if (Status st = RemoveAssemblyTemp(place_, job_); !st) out = out.WithContext(st.error().message());
    return out;
  };
  if (!cursor_) {
    auto begun = BeginAssembly(place_, job_, header);
    if (!begun) return give_up(begun.error());
    cursor_ = std::move(*begun);
  }
  auto advanced = AdvanceAssembly(*cursor_, dir_, store, job_, &stop_);
  if (!advanced) return give_up(advanced.error());
  if (!*advanced) return give_up(NotFound("the rows of a done mini-batch are missing"));
  return {};
}

std::optional<AssemblyCursor> EarlyAssembly::Take() {
  stop_.store(true);
  std::lock_guard lock(mu_);
  if (given_up_ || !cursor_) return std::nullopt;
  std::optional<AssemblyCursor> out = std::move(cursor_);
  cursor_.reset();
  return out;
}

Status EarlyAssembly::Discard() {
  stop_.store(true);
  std::lock_guard lock(mu_);
  cursor_.reset();
  return RemoveAssemblyTemp(place_, job_);
}

}  // namespace lote::jobs
