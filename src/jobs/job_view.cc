#include "jobs/job_view.h"

#include <algorithm>
#include <cmath>

#include "common/util.h"

namespace lote::jobs {

using nlohmann::json;

namespace {

std::string Rfc3339Ms(int64_t ms) {
  return FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

double Round(double v, double scale) { return std::round(v * scale) / scale; }

}  // namespace

json JobView(const store::JobRecord& job, int64_t now_ms) {
  const store::JobState& st = job.state;
  const store::JobCounters& c = job.counters;
  json v = job.spec;
  v.erase("runtime");
  v["status"] = std::string(store::JobStatusName(st.status));
  if (!st.error.empty()) v["error"] = st.error;
  if (st.started_ms > 0) v["started_at"] = Rfc3339Ms(st.started_ms);
  if (st.ended_ms > 0) v["ended_at"] = Rfc3339Ms(st.ended_ms);
  if (st.output_rows >= 0 && v.contains("output") && v["output"].is_object()) {
    v["output"]["written"] = true;
    v["output"]["rows"] = st.output_rows;
  }
  int64_t pending = c.tasks_total - c.tasks_done - c.tasks_failed - c.tasks_running;
  json progress = {
      {"mini_batches", {{"total", c.tasks_total}, {"succeeded", c.tasks_done}, {"failed", c.tasks_failed},
                        {"retried", c.tasks_retried}, {"running", c.tasks_running},
                        {"pending", std::max<int64_t>(pending, 0)}}},
      {"items", {{"succeeded", c.items_succeeded}, {"failed", c.items_failed}}}};
  if (st.started_ms > 0) {
    int64_t end = st.ended_ms > 0 ? st.ended_ms : now_ms;
    double secs = std::max(0.001, static_cast<double>(end - st.started_ms) / 1000.0);
    double mb_per_s = static_cast<double>(c.tasks_done + c.tasks_failed) / secs;
    progress["elapsed_s"] = Round(secs, 1000);
    progress["mini_batches_per_s"] = Round(mb_per_s, 100);
    progress["items_per_s"] = Round(static_cast<double>(c.items_succeeded + c.items_failed) / secs, 100);
    if (st.status == store::JobStatus::kRunning && mb_per_s > 0) {
      progress["eta_s"] = Round(static_cast<double>(std::max<int64_t>(pending, 0) + c.tasks_running) / mb_per_s, 10);
    }
  }
  v["progress"] = progress;
  return v;
}

}  // namespace lote::jobs
