#include "common/metrics.h"

#include <cmath>
#include <cstdio>

namespace lote {

namespace {

constexpr double kScale = 1e6;

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string LabelText(const Labels& labels, const std::string& extra_key = "", const std::string& extra = "") {
  std::string out;
  auto add = [&](const std::string& k, const std::string& v) {
    out += (out.empty() ? "" : ",") + k + "=\"" + EscapeLabelValue(v) + "\"";
  };
  for (const auto& [k, v] : labels) add(k, v);
  if (!extra_key.empty()) add(extra_key, extra);
  return out.empty() ? "" : "{" + out + "}";
}

std::string EscapeHelp(const std::string& h) {
  std::string out;
  for (char c : h) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

}  // namespace

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void Counter::Add(double v) {
  if (!(v > 0)) return;  // counters only go up (and NaN is not a count)
  micro_.fetch_add(static_cast<uint64_t>(std::llround(v * kScale)), std::memory_order_relaxed);
}

double Counter::value() const { return static_cast<double>(micro_.load(std::memory_order_relaxed)) / kScale; }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  if (std::isnan(v)) return;
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.Add(v > 0 ? v : 0);
}

Counter* MetricsRegistry::CounterFor(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  if (f.type.empty()) f = Family{help, "counter", {}, {}, {}};
  auto& slot = f.counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return slot.get();
}

Histogram* MetricsRegistry::HistogramFor(const std::string& name, const std::string& help,
                                         const std::vector<double>& bounds, const Labels& labels) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  if (f.type.empty()) f = Family{help, "histogram", {}, {}, {}};
  auto& slot = f.histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(bounds);
  return slot.get();
}

void MetricsRegistry::Gauge(const std::string& name, const std::string& help, GaugeFn fn) {
  std::lock_guard lock(mu_);
  families_[name] = Family{help, "gauge", {}, {}, std::move(fn)};
}

std::string MetricsRegistry::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + EscapeHelp(f.help) + "\n# TYPE " + name + " " + f.type + "\n";
    for (const auto& [labels, c] : f.counters) out += name + LabelText(labels) + " " + Number(c->value()) + "\n";
    for (const auto& [labels, h] : f.histograms) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i <= h->bounds_.size(); ++i) {
        cumulative += h->buckets_[i].load(std::memory_order_relaxed);
        std::string le = i < h->bounds_.size() ? Number(h->bounds_[i]) : "+Inf";
        out += name + "_bucket" + LabelText(labels, "le", le) + " " + std::to_string(cumulative) + "\n";
      }
      out += name + "_sum" + LabelText(labels) + " " + Number(h->sum_.value()) + "\n";
      out += name + "_count" + LabelText(labels) + " " + std::to_string(cumulative) + "\n";
    }
    if (f.gauge) {
      for (const auto& [labels, v] : f.gauge()) out += name + LabelText(labels) + " " + Number(v) + "\n";
    }
  }
  return out;
}

}  // namespace lote
