// JobManager::ListFailedItems: the job's failures as the dashboard lists
// them, one entry per bad row or item of a committed mini-batch (from the
// attempt that committed it, kept with its task by the store) and one per
// mini-batch that failed as a whole (row null, file naming its items).
#include "common/fs_name.h"
#include "jobs/job_manager_impl.h"

namespace lote::jobs {

using nlohmann::json;

namespace {

// A failed mini-batch of many files names its first ones.
constexpr size_t kMaxFilesNamed = 5;
constexpr size_t kMaxErrorChars = 2000;
// A page stops at the mini-batch that would take it past this many entries
// (each mini-batch lists at most 100): a page stays a few MB at most.
constexpr size_t kMaxEntriesPerPage = 1000;

std::string FilesOf(const json& items) {
  if (!items.is_array() || items.empty()) return "?";
  std::string out;
  for (size_t i = 0; i < items.size() && i < kMaxFilesNamed; ++i) {
    if (i > 0) out += ", ";
    out += ItemDisplayPath(items[i]);
  }
  if (items.size() > kMaxFilesNamed) out += " (and " + std::to_string(items.size() - kMaxFilesNamed) + " more)";
  return out;
}

json OrNull(const json& e, const char* key) {
  auto it = e.find(key);
  return it != e.end() && it->is_string() ? *it : json();
}

}  // namespace

Result<json> JobManagerImpl::ListFailedItems(const std::string& name, int64_t after, int limit) {
  LOTE_TRY(options_.store->GetJob(name));  // NotFound names the job
  LOTE_ASSIGN_OR_RETURN(std::vector<store::Task> tasks, options_.store->ListFailedTasks(name, after, limit));
  json out = json::array();
  int64_t last = after;
  bool more = static_cast<int>(tasks.size()) == limit;  // a short page is the last one
  for (const store::Task& t : tasks) {
    const size_t entries = t.status == store::TaskStatus::kFailed ? 1 : t.item_errors.size();
    if (!out.empty() && out.size() + entries > kMaxEntriesPerPage) {
      more = true;  // the next page starts at this mini-batch
      break;
    }
    last = t.id;
    if (t.status == store::TaskStatus::kFailed) {
      out.push_back({{"mini_batch", t.id},
                     {"attempt", t.attempts},
                     {"file", FilesOf(t.items)},
                     {"row", nullptr},
                     {"column", nullptr},
                     {"outcome", t.outcome},
                     {"error", t.error.substr(0, kMaxErrorChars)}});
      continue;
    }
    for (const json& e : t.item_errors) {
      if (!e.is_object()) continue;
      out.push_back({{"mini_batch", t.id},
                     {"attempt", t.attempts},
                     {"file", OrNull(e, "item")},
                     {"row", OrNull(e, "row")},
                     {"column", OrNull(e, "column")},
                     {"outcome", "ITEM_FAILED"},
                     {"error", e.value("error", std::string()).substr(0, kMaxErrorChars)}});
    }
  }
  return json{{"failed_items", std::move(out)}, {"next_after", last}, {"more", more}};
}

}  // namespace lote::jobs
