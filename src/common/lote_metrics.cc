#include "common/lote_metrics.h"

namespace lote {

namespace {

const std::vector<double> kMiniBatchBounds = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800};
const std::vector<double> kHttpBounds = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30};

}  // namespace

LoteMetrics::LoteMetrics(MetricsRegistry& r) : registry_(r) {
  const std::string mb_help = "Mini-batch attempts that ended, by outcome (succeeded, retried, failed; canceled and not_run: "
      "of jobs that stopped early)";
  mb_succeeded_ = r.CounterFor("lote_mini_batches_total", mb_help, {{"outcome", "succeeded"}});
  mb_retried_ = r.CounterFor("lote_mini_batches_total", mb_help, {{"outcome", "retried"}});
  mb_failed_ = r.CounterFor("lote_mini_batches_total", mb_help, {{"outcome", "failed"}});
  mb_canceled_ = r.CounterFor("lote_mini_batches_total", mb_help, {{"outcome", "canceled"}});
  mb_not_run_ = r.CounterFor("lote_mini_batches_total", mb_help, {{"outcome", "not_run"}});
  const std::string items_help = "Items (files or rows) of committed mini-batches, by outcome";
  items_succeeded_ = r.CounterFor("lote_items_total", items_help, {{"outcome", "succeeded"}});
  items_failed_ = r.CounterFor("lote_items_total", items_help, {{"outcome", "failed"}});
  mb_duration_ = r.HistogramFor("lote_mini_batch_duration_seconds",
                                "How long a mini-batch attempt ran in its worker", kMiniBatchBounds);
  lease_expirations_ = r.CounterFor("lote_lease_expirations_total",
                                    "Mini-batch leases that expired or were ended because their agent was lost");
  http_duration_ = r.HistogramFor("lote_http_request_duration_seconds",
                                  "Time from a request's headers to its answer being queued", kHttpBounds);
}

void LoteMetrics::MiniBatch(const std::string& outcome, double seconds) {
  if (outcome == "succeeded") mb_succeeded_->Add();
  else if (outcome == "retried") mb_retried_->Add();
  else mb_failed_->Add();
  if (seconds >= 0) mb_duration_->Observe(seconds);
}

void LoteMetrics::Stopped(int64_t canceled, int64_t not_run) {
  mb_canceled_->Add(static_cast<double>(canceled));
  mb_not_run_->Add(static_cast<double>(not_run));
}

void LoteMetrics::Items(int64_t succeeded, int64_t failed) {
  items_succeeded_->Add(static_cast<double>(succeeded));
  items_failed_->Add(static_cast<double>(failed));
}

void LoteMetrics::LeaseExpirations(int64_t n) { lease_expirations_->Add(static_cast<double>(n)); }

void LoteMetrics::HttpRequest(int status, double seconds) {
  // Codes are bounded (100-599), so the label set is too.
  if (status < 100 || status > 599) status = 0;
  registry_.CounterFor("lote_http_requests_total", "Answered HTTP requests, by status code",
                       {{"code", std::to_string(status)}})
      ->Add();
  http_duration_->Observe(seconds);
}

}  // namespace lote
