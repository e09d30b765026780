#include "jobs/result_batch.h"

#include <fstream>
#include <nlohmann/json.hpp>

namespace lote::jobs {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Result<int64_t> Count(const json& r, const char* key, const std::string& where, bool required) {
  auto it = r.find(key);
  if (it == r.end() || it->is_null()) {
    if (required) return InvalidArgument(where + "." + key + " is missing");
    return int64_t{0};
  }
  if (!it->is_number_integer() || it->get<int64_t>() < 0) {
    return InvalidArgument(where + "." + key + " must be a non-negative integer");
  }
  return it->get<int64_t>();
}

Result<std::string> Text(const json& e, const char* key, const std::string& where, size_t max,
                         bool required, bool* present) {
  *present = false;
  auto it = e.find(key);
  if (it == e.end() || it->is_null()) {
    if (required) return InvalidArgument(where + "." + key + " is missing");
    return std::string();
  }
  if (!it->is_string()) return InvalidArgument(where + "." + key + " must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max) {
    return InvalidArgument(where + "." + key + " is " + std::to_string(s.size()) + " bytes, more than " +
                           std::to_string(max));
  }
  *present = true;
  return s;
}

Result<std::vector<ItemError>> ParseItemErrors(const json& r, const std::string& where) {
  std::vector<ItemError> out;
  auto list = r.find("item_errors");
  if (list == r.end() || list->is_null()) return out;  // an agent from before item_errors
  const std::string at = where + ".item_errors";
  if (!list->is_array()) return InvalidArgument(at + " must be an array");
  if (list->size() > kMaxResultItemErrors) {
    return InvalidArgument(at + " lists " + std::to_string(list->size()) + " errors, more than " +
                           std::to_string(kMaxResultItemErrors));
  }
  for (size_t j = 0; j < list->size(); ++j) {
    const json& e = (*list)[j];
    const std::string w = at + "[" + std::to_string(j) + "]";
    if (!e.is_object()) return InvalidArgument(w + " must be an object");
    ItemError ie;
    bool present = false;
    LOTE_ASSIGN_OR_RETURN(ie.item, Text(e, "item", w, kMaxItemErrorTextBytes, true, &present));
    LOTE_ASSIGN_OR_RETURN(ie.error, Text(e, "error", w, kMaxItemErrorTextBytes, true, &present));
    LOTE_ASSIGN_OR_RETURN(std::string row, Text(e, "row", w, kMaxItemErrorRowBytes, false, &present));
    if (present) ie.row = std::move(row);
    LOTE_ASSIGN_OR_RETURN(std::string column, Text(e, "column", w, kMaxItemErrorColumnBytes, false, &present));
    if (present) ie.column = std::move(column);
    out.push_back(std::move(ie));
  }
  return out;
}

Result<BatchedResult> ParseOne(const json& r, const std::string& where) {
  if (!r.is_object()) return InvalidArgument(where + " must be an object");
  BatchedResult out;
  LOTE_ASSIGN_OR_RETURN(out.task, Count(r, "task", where, true));
  auto lease = r.find("lease");
  if (lease == r.end() || !lease->is_string() || lease->get<std::string>().empty()) {
    return InvalidArgument(where + ".lease must be a non-empty string");
  }
  out.lease = *lease;
  LOTE_ASSIGN_OR_RETURN(out.succeeded, Count(r, "succeeded", where, false));
  LOTE_ASSIGN_OR_RETURN(out.failed, Count(r, "failed", where, false));
  LOTE_ASSIGN_OR_RETURN(out.started_ms, Count(r, "started_ms", where, false));
  LOTE_ASSIGN_OR_RETURN(out.elapsed_ms, Count(r, "elapsed_ms", where, false));
  LOTE_ASSIGN_OR_RETURN(int64_t bytes, Count(r, "bytes", where, true));
  out.bytes = static_cast<uint64_t>(bytes);
  if (auto h = r.find("header"); h != r.end() && !h->is_null()) {
    if (!h->is_string()) return InvalidArgument(where + ".header must be a string or null");
    out.header = h->get<std::string>();
  }
  LOTE_ASSIGN_OR_RETURN(out.item_errors, ParseItemErrors(r, where));
  return out;
}

}  // namespace

Result<ResultBatch> ReadResultBatch(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return IoError("cannot read the staged results '" + file.filename().string() + "'");
  std::error_code ec;
  const uint64_t size = fs::file_size(file, ec);
  if (ec) return IoError("cannot size the staged results: " + ec.message());
  std::string line;
  bool ended = false;
  char c;
  while (in.get(c)) {
    if (c == '\n') {
      ended = true;
      break;
    }
    if (line.size() >= kMaxResultBatchMetaBytes) {
      return InvalidArgument("results: the metadata line is longer than " +
                             std::to_string(kMaxResultBatchMetaBytes) + " bytes");
    }
    line += c;
  }
  if (!ended) return InvalidArgument("results: the body must start with a line of JSON metadata");
  json meta = json::parse(line, nullptr, false);
  if (!meta.is_object()) return InvalidArgument("results: the metadata line is not a JSON object");
  ResultBatch batch;
  if (auto w = meta.find("worker"); w != meta.end() && w->is_string()) batch.worker = *w;
  auto list = meta.find("results");
  if (list == meta.end() || !list->is_array()) {
    return InvalidArgument("results: the metadata needs \"results\": [...]");
  }
  const uint64_t rows_start = line.size() + 1;
  if (size < rows_start) return IoError("the staged results changed while being read");
  const uint64_t rows = size - rows_start;
  uint64_t offset = rows_start;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string where = "results[" + std::to_string(i) + "]";
    LOTE_ASSIGN_OR_RETURN(BatchedResult r, ParseOne((*list)[i], where));
    // Checked one by one against what is left, so that no sum can wrap
    // around and no result points past the end of the file.
    if (r.bytes > size - offset) {
      return InvalidArgument(where + ".bytes: " + std::to_string(r.bytes) +
                             " bytes of rows, but the body holds " + std::to_string(rows) +
                             " bytes of rows after the metadata line");
    }
    r.offset = offset;
    offset += r.bytes;
    batch.results.push_back(std::move(r));
  }
  if (offset != size) {
    return InvalidArgument("results: the rows are " + std::to_string(rows) +
                           " bytes, the metadata's byte counts add up to " +
                           std::to_string(offset - rows_start));
  }
  return batch;
}

}  // namespace lote::jobs
