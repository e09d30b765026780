#include "jobs/job_reports.h"

#include "common/util.h"

namespace lote::jobs {

using nlohmann::json;

namespace {

constexpr int kTaskPage = 2000;
constexpr size_t kFailuresInResult = 5;

std::string Str(const json& v, const char* key) {
  auto it = v.find(key);
  return it != v.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string Num(const json& v, const char* a, const char* b) {
  auto x = v.find(a);
  if (x == v.end() || !x->is_object()) return "0";
  auto y = x->find(b);
  return y == x->end() ? "0" : y->dump();
}

// The first item's name, for messages.
std::string FirstItem(const store::Task& t) {
  if (!t.items.is_array() || t.items.empty() || !t.items[0].is_object()) return "";
  const json& item = t.items[0];
  std::string path = item.contains("path") && item["path"].is_string() ? item["path"].get<std::string>() : "";
  std::string name = path.substr(path.rfind('/') + 1);
  if (t.items.size() > 1) name += " and " + std::to_string(t.items.size() - 1) + " more";
  return name;
}

}  // namespace

Status WriteProgressOverview(const JobDir& dir, const json& v) {
  const json& p = v["progress"];
  std::string text;
  text += "Job: " + Str(v, "name") + "\n";
  text += "Status: " + Str(v, "status") + "\n";
  text += "Endpoint: " + Str(v, "endpoint") + ", deployment: " + Str(v, "deployment") + "\n";
  text += "Mini-batches: " + Num(p, "mini_batches", "total") + " total, " + Num(p, "mini_batches", "succeeded") +
          " succeeded, " + Num(p, "mini_batches", "failed") + " failed, " + Num(p, "mini_batches", "running") +
          " running, " + Num(p, "mini_batches", "retried") + " retried";
  if (Num(p, "mini_batches", "canceled") != "0" || Num(p, "mini_batches", "not_run") != "0") {
    text += ", " + Num(p, "mini_batches", "canceled") + " canceled, " + Num(p, "mini_batches", "not_run") + " not run";
  }
  text += "\n";
  text += "Items: " + Num(p, "items", "succeeded") + " succeeded, " + Num(p, "items", "failed") + " failed\n";
  if (p.contains("items_per_s")) text += "Throughput: " + p["items_per_s"].dump() + " items/s\n";
  if (p.contains("eta_s")) text += "ETA: " + p["eta_s"].dump() + " s\n";
  return WriteFileAtomic(dir.logs() / "job_progress_overview.txt", text, 0644, Durability::kUnsynced);
}

namespace {

std::string DescribeFailure(const store::Task& t) {
  std::string item = FirstItem(t);
  return "mini-batch " + std::to_string(t.id) + (item.empty() ? "" : " (" + item + ")") + ": " +
         (t.outcome.empty() ? "" : t.outcome + ": ") + t.error;
}

}  // namespace

Result<std::vector<std::string>> FirstFailures(store::JobStore& store, const std::string& job, size_t limit) {
  std::vector<std::string> out;
  int64_t after = 0;
  while (out.size() < limit) {
    LOTE_ASSIGN_OR_RETURN(auto tasks, store.ListTasks(job, after, kTaskPage));
    if (tasks.empty()) break;
    for (const auto& t : tasks) {
      after = t.id;
      if (t.status == store::TaskStatus::kFailed && out.size() < limit) out.push_back(DescribeFailure(t));
    }
  }
  return out;
}

Status WriteFinalReports(const JobDir& dir, const json& v, store::JobStore& store) {
  const std::string name = Str(v, "name");
  std::string csv =
      "mini_batch_id,items,attempts,worker,start_time,elapsed_ms,succeeded,failed,status,error\n";
  std::vector<std::string> failures;  // the first few, for job_result.txt
  int64_t after = 0;
  while (true) {
    LOTE_ASSIGN_OR_RETURN(auto tasks, store.ListTasks(name, after, kTaskPage));
    if (tasks.empty()) break;
    for (const auto& t : tasks) {
      if (t.status == store::TaskStatus::kFailed && failures.size() < kFailuresInResult) {
        failures.push_back(DescribeFailure(t));
      }
      std::string start = t.started_ms > 0 ? FormatRfc3339(std::chrono::system_clock::time_point(
                                                 std::chrono::milliseconds(t.started_ms)))
                                           : "";
      std::string status = t.outcome;
      if (t.status == store::TaskStatus::kDone && status.empty()) status = "RUN_DONE";
      if (status.empty()) status = std::string(store::TaskStatusName(t.status));
      csv += std::to_string(t.id) + "," + std::to_string(t.items.is_array() ? t.items.size() : 0) + "," +
             std::to_string(t.attempts) + "," + CsvField(t.worker) + "," + start + "," +
             std::to_string(t.elapsed_ms) + "," + std::to_string(t.succeeded) + "," + std::to_string(t.failed) +
             "," + status + "," + CsvField(t.error) + "\n";
      after = t.id;
    }
  }
  // Reports are not synced: they are rewritten from the store when a job
  // ends, and a power cut costs a report, never a row.
  LOTE_TRY(WriteFileAtomic(dir.logs() / "sys" / "job_report" / "processed_mini-batches.csv", csv, 0644,
                           Durability::kUnsynced));
  std::string result = "Job: " + name + "\nStatus: " + Str(v, "status") + "\n";
  if (v.contains("error")) result += "Reason: " + Str(v, "error") + "\n";
  result += "Mini-batches: " + Num(v["progress"], "mini_batches", "succeeded") + " succeeded, " +
            Num(v["progress"], "mini_batches", "failed") + " failed, " +
            Num(v["progress"], "mini_batches", "canceled") + " canceled, " +
            Num(v["progress"], "mini_batches", "not_run") + " not run\n";
  result += "Items: " + Num(v["progress"], "items", "succeeded") + " succeeded, " +
            Num(v["progress"], "items", "failed") + " failed\n";
  if (!failures.empty()) {
    result += "First failed mini-batches (all of them: logs/sys/job_report/processed_mini-batches.csv):\n";
    for (const auto& f : failures) result += "  " + f + "\n";
  }
  if (v.contains("output") && v["output"].is_object() && v["output"].contains("written")) {
    result += "Output: " + Str(v["output"], "uri") + " (" + v["output"]["rows"].dump() + " rows)\n";
  }
  return WriteFileAtomic(dir.logs() / "job_result.txt", result, 0644, Durability::kUnsynced);
}

}  // namespace lote::jobs
