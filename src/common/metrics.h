// Prometheus metrics, rendered in the text exposition format (version 0.0.4).
//
// Counters and histograms are updated lock-free from any thread (a hot
// path pays one or two relaxed atomic adds); label values are fixed when an
// instrument is made, so cardinality is decided by the code, never by
// requests. Gauges are read at render time from callbacks.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace lote {

class Counter {
 public:
  void Add(double v = 1);
  double value() const;

 private:
  std::atomic<uint64_t> micro_{0};  // fixed point: millionths, so adds stay atomic
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);

 private:
  friend class MetricsRegistry;
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bound, not cumulative; +Inf last
  Counter sum_;
};

using Labels = std::vector<std::pair<std::string, std::string>>;

class MetricsRegistry {
 public:
  // The instrument for name{labels}, made on first use. `help` and the kind
  // belong to the name (the first call's win). Pointers stay valid for the
  // registry's life.
  Counter* CounterFor(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram* HistogramFor(const std::string& name, const std::string& help, const std::vector<double>& bounds,
                          const Labels& labels = {});
  // A gauge family read at render time: fn returns (labels, value) samples.
  using GaugeFn = std::function<std::vector<std::pair<Labels, double>>()>;
  void Gauge(const std::string& name, const std::string& help, GaugeFn fn);

  // Every metric, families in name order, in the text exposition format.
  std::string Render() const;

 private:
  struct Family {
    std::string help, type;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
    GaugeFn gauge;
  };
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

// Escapes a label value for the exposition format (\\, \", \n).
std::string EscapeLabelValue(const std::string& v);

}  // namespace lote
