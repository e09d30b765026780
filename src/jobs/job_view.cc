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
  int64_t pending = c.tasks_total - c.tasks_done - c.tasks_failed - c.tasks_running - c.tasks_canceled -
                    c.tasks_not_run;
  json progress = {
      {"mini_batches", {{"total", c.tasks_total}, {"succeeded", c.tasks_done}, {"failed", c.tasks_failed},
                        {"retried", c.tasks_retried}, {"running", c.tasks_running},
                        {"pending", std::max<int64_t>(pending, 0)},
                        // of a job that stopped early: running then, and never started
                        {"canceled", c.tasks_canceled}, {"not_run", c.tasks_not_run}}},
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

json WithAzureShape(json view, const std::string& base_url) {
  if (!view.is_object() || !view.contains("name") || !view["name"].is_string()) return view;
  const std::string name = view["name"];
  const std::string job_url = base_url + "/api/v1/jobs/" + name;
  // Studio is the job's dashboard page (docs/dashboard.md), which a browser
  // can open; Tracking stays the log's API.
  const std::string page_url = base_url + "/jobs/" + name;
  auto str = [&view](const char* key) {
    auto it = view.find(key);
    return it != view.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  json props = {
      {"jobType", "Pipeline"},  // what Azure's batch endpoint jobs are
      {"status", str("status")},
      {"displayName", name},
      {"experimentName", str("endpoint")},
      {"isArchived", false},
      {"interactionEndpoints",
       {{"Studio", {{"endpoint", page_url}}}, {"Tracking", {{"endpoint", job_url + "/log"}}}}},
      {"services",
       {{"Studio", {{"jobServiceType", "Studio"}, {"endpoint", page_url}}},
        {"Tracking", {{"jobServiceType", "Tracking"}, {"endpoint", job_url + "/log"}}}}},
      {"properties", {{"azureml.batchrun", "true"}, {"endpoint", str("endpoint")}, {"deployment", str("deployment")}}},
  };
  if (auto in = view.find("input"); in != view.end() && in->is_object() && in->contains("description")) {
    props["inputs"] = {{"input", {{"uri", (*in)["description"]}}}};
  }
  if (auto out = view.find("output"); out != view.end() && out->is_object() && out->contains("datastore")) {
    std::string rel = out->value("path", std::string());
    props["outputs"] = {{"score", {{"jobOutputType", "uri_folder"},
                                   {"uri", "azureml://datastores/" + out->value("datastore", std::string()) +
                                               "/paths/" + (rel.empty() ? "" : rel + "/")}}}};
  }
  view["id"] =
      "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/lote/providers/"
      "Microsoft.MachineLearningServices/workspaces/lote/jobs/" + name;
  // Azure's resource type; lote's own "type" (the job's kind, "batch") keeps its
  // place: `lote job show --query type` and existing clients read it.
  view["resourceType"] = "Microsoft.MachineLearningServices/workspaces/jobs";
  view["properties"] = std::move(props);
  if (std::string created = str("created_at"); !created.empty()) {
    view["systemData"] = {{"createdAt", created}, {"createdByType", "Application"}};
  }
  return view;
}

}  // namespace lote::jobs
