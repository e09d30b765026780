// JobManager::ListMiniBatches: a page of the job's mini-batches as the
// dashboard draws them (durations, throughput over time, failed items).
#include "jobs/job_manager_impl.h"

namespace lote::jobs {

using nlohmann::json;

namespace {

// A mini-batch of many files lists its first ones: enough to name what
// failed, bounded so one answer stays small whatever mini_batch_size is.
constexpr size_t kMaxItemsShown = 20;
constexpr size_t kMaxErrorChars = 2000;

json ItemView(const json& item) {
  json v = json::object();
  if (!item.is_object()) return v;
  for (const char* key : {"path", "offset", "length"}) {
    if (auto it = item.find(key); it != item.end()) v[key] = *it;
  }
  return v;
}

}  // namespace

Result<json> JobManagerImpl::ListMiniBatches(const std::string& name, int64_t after, int limit) {
  LOTE_TRY(options_.store->GetJob(name));  // NotFound names the job
  LOTE_ASSIGN_OR_RETURN(std::vector<store::Task> tasks, options_.store->ListTasks(name, after, limit));
  json out = json::array();
  int64_t last = after;
  for (const store::Task& t : tasks) {
    json items = json::array();
    if (t.items.is_array()) {
      for (size_t i = 0; i < t.items.size() && i < kMaxItemsShown; ++i) items.push_back(ItemView(t.items[i]));
    }
    json mb = {{"id", t.id},
               {"status", std::string(store::TaskStatusName(t.status))},
               {"attempts", t.attempts},
               {"started_ms", t.started_ms},
               {"elapsed_ms", t.elapsed_ms},
               {"succeeded", t.succeeded},
               {"failed", t.failed},
               {"worker", t.worker},
               {"outcome", t.outcome},
               {"error", t.error.substr(0, kMaxErrorChars)},
               {"items", std::move(items)},
               {"items_total", t.items.is_array() ? t.items.size() : 0}};
    out.push_back(std::move(mb));
    last = t.id;
  }
  return json{{"mini_batches", std::move(out)}, {"next_after", last}};
}

}  // namespace lote::jobs
