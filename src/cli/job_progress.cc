#include "cli/job_progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace lote::cli {

namespace {

using nlohmann::json;

int64_t Int(const json& obj, const char* a, const char* b) {
  if (!obj.is_object() || !obj.contains(a) || !obj[a].is_object()) return 0;
  const json& inner = obj[a];
  return inner.contains(b) && inner[b].is_number_integer() ? inner[b].get<int64_t>() : 0;
}

double Num(const json& obj, const char* key, double def = -1) {
  return obj.is_object() && obj.contains(key) && obj[key].is_number() ? obj[key].get<double>() : def;
}

struct Counts {
  int64_t total, done, failed, running, items_ok, items_failed;
  double rate, eta;
  int64_t canceled, not_run;  // of a job that stopped early
};

Counts Read(const json& job) {
  const json p = job.is_object() ? job.value("progress", json::object()) : json::object();
  return {Int(p, "mini_batches", "total"), Int(p, "mini_batches", "succeeded"),
          Int(p, "mini_batches", "failed"), Int(p, "mini_batches", "running"),
          Int(p, "items", "succeeded"),     Int(p, "items", "failed"),
          Num(p, "items_per_s"),            Num(p, "eta_s"),
          Int(p, "mini_batches", "canceled"), Int(p, "mini_batches", "not_run")};
}

int Percent(const Counts& c) {
  if (c.total <= 0) return 0;
  return static_cast<int>(std::floor(100.0 * static_cast<double>(c.done + c.failed) / static_cast<double>(c.total)));
}

std::string Rate(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f items/s", r);
  return buf;
}

}  // namespace

std::string FormatDuration(double seconds) {
  if (seconds < 0 || !std::isfinite(seconds)) return "?";
  auto s = static_cast<int64_t>(std::llround(seconds));
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>((s % 3600) / 60));
  return buf;
}

std::string ProgressLine(const json& job) {
  Counts c = Read(job);
  std::string status = job.is_object() ? job.value("status", "?") : "?";
  std::string out = status + ": " + std::to_string(c.done + c.failed) + "/" + std::to_string(c.total) +
                    " mini-batches (" + std::to_string(Percent(c)) + "%)";
  if (c.failed > 0) out += ", " + std::to_string(c.failed) + " failed";
  if (c.running > 0) out += ", " + std::to_string(c.running) + " running";
  if (c.canceled > 0) out += ", " + std::to_string(c.canceled) + " canceled";
  if (c.not_run > 0) out += ", " + std::to_string(c.not_run) + " not run";
  out += "; items " + std::to_string(c.items_ok) + " succeeded, " + std::to_string(c.items_failed) + " failed";
  if (c.rate >= 0) out += "; " + Rate(c.rate);
  if (c.eta >= 0) out += "; ETA " + FormatDuration(c.eta);
  return out;
}

std::string ProgressBar(const json& job, int width) {
  Counts c = Read(job);
  std::string tail = " " + std::to_string(Percent(c)) + "% " + std::to_string(c.done + c.failed) + "/" +
                     std::to_string(c.total) + " mini-batches | " + std::to_string(c.items_ok) + " ok, " +
                     std::to_string(c.items_failed) + " failed";
  if (c.rate >= 0) tail += " | " + Rate(c.rate);
  if (c.eta >= 0) tail += " | ETA " + FormatDuration(c.eta);
  int bar = std::clamp(width - static_cast<int>(tail.size()) - 2, 10, 40);
  int filled = c.total > 0 ? static_cast<int>(bar * (c.done + c.failed) / c.total) : 0;
  std::string out = "[" + std::string(static_cast<size_t>(filled), '#') +
                    std::string(static_cast<size_t>(bar - filled), '.') + "]" + tail;
  if (width > 0 && static_cast<int>(out.size()) > width) out.resize(static_cast<size_t>(width));
  return out;
}

nlohmann::ordered_json JobTableRow(const json& job) {
  Counts c = Read(job);
  nlohmann::ordered_json row;
  row["name"] = job.value("name", "");
  row["status"] = job.value("status", "");
  row["endpoint"] = job.value("endpoint", "");
  row["deployment"] = job.value("deployment", "");
  row["mini_batches"] = std::to_string(c.done + c.failed) + "/" + std::to_string(c.total);
  row["progress"] = std::to_string(Percent(c)) + "%";
  row["mb_failed"] = c.failed;
  row["mb_canceled"] = c.canceled;
  row["mb_not_run"] = c.not_run;
  row["items_ok"] = c.items_ok;
  row["items_failed"] = c.items_failed;
  row["rate"] = c.rate >= 0 ? Rate(c.rate) : "";
  row["eta"] = c.eta >= 0 ? FormatDuration(c.eta) : "";
  row["created_at"] = job.value("created_at", "");
  return row;
}

}  // namespace lote::cli
