// The control plane's own metrics (GET /metrics, docs/metrics.md). Labels are
// fixed and low-cardinality: no job, endpoint or file names.
#pragma once

#include <string>

#include "common/metrics.h"

namespace lote {

class LoteMetrics {
 public:
  explicit LoteMetrics(MetricsRegistry& registry);

  MetricsRegistry& registry() { return registry_; }

  // A mini-batch attempt that ended: succeeded (its results committed),
  // retried (failed, queued again) or failed (for good); `seconds` is the
  // attempt's duration when known (< 0 otherwise).
  void MiniBatch(const std::string& outcome, double seconds);
  // The mini-batches a job that stopped early canceled (running then) and
  // did not run (never started): outcome canceled and not_run.
  void Stopped(int64_t canceled, int64_t not_run);
  // Items of committed mini-batches, by outcome (succeeded, failed).
  void Items(int64_t succeeded, int64_t failed);
  void LeaseExpirations(int64_t n);
  // One answered HTTP request.
  void HttpRequest(int status, double seconds);

 private:
  MetricsRegistry& registry_;
  Counter* mb_succeeded_;
  Counter* mb_retried_;
  Counter* mb_failed_;
  Counter* mb_canceled_;
  Counter* mb_not_run_;
  Counter* items_succeeded_;
  Counter* items_failed_;
  Histogram* mb_duration_;
  Counter* lease_expirations_;
  Histogram* http_duration_;
};

}  // namespace lote
