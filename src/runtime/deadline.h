// A point in time on the steady clock, or "never", turned into the
// millisecond timeouts poll() takes.
#pragma once

#include <chrono>
#include <optional>

namespace lote::runtime {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  // timeout_ms < 0: never expires.
  static Deadline AfterMs(int timeout_ms) {
    Deadline d;
    if (timeout_ms >= 0) d.at_ = Clock::now() + std::chrono::milliseconds(timeout_ms);
    return d;
  }
  static Deadline At(Clock::time_point t) {
    Deadline d;
    d.at_ = t;
    return d;
  }

  bool never() const { return !at_.has_value(); }
  bool expired() const { return at_ && Clock::now() >= *at_; }

  // For poll(): -1 when it never expires, else the milliseconds left rounded
  // up (so a poll does not wake just before the deadline and spin), >= 0.
  int RemainingMs() const {
    if (!at_) return -1;
    auto left = *at_ - Clock::now();
    if (left <= Clock::duration::zero()) return 0;
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    return ms > 0x7fffffff ? 0x7fffffff : static_cast<int>(ms);
  }

 private:
  std::optional<Clock::time_point> at_;
};

}  // namespace lote::runtime
