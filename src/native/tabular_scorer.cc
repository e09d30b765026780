#include "native/tabular_scorer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "common/float_text.h"
#include "common/fs_name.h"
#include "common/util.h"
#include "native/csv_reader.h"
#include "native/jsonl_reader.h"
#include "native/tabular_scorer_rows.h"
#include "native/torchscript_model.h"
#include "native/xgboost_model.h"
#include "parquet/parquet_file.h"

namespace lote::native {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void AppendInteger(std::string* out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, end);
}

// Writes the row's key at `at` (room for kRowKeyChars) and returns its end.
// by_offset: a range item planned by an older lote, without its first row
// number: its rows are keyed by byte offset, as that version keyed them.
char* WriteRowKey(char* at, const RowKey& key, bool by_offset) {
  if (by_offset) *at++ = '@';
  const int64_t v = by_offset ? static_cast<int64_t>(key.byte_offset) : key.row;
  return std::to_chars(at, at + 20, v).ptr;
}

// Appends the row's key to out: no string made per output row.
void AppendRowText(std::string* out, const RowKey& key, bool by_offset) {
  if (by_offset) out->push_back('@');
  AppendInteger(out, by_offset ? static_cast<int64_t>(key.byte_offset) : key.row);
}

std::string RowText(const RowKey& key, bool by_offset) {
  std::string out;
  AppendRowText(&out, key, by_offset);
  return out;
}

std::string RowLocation(const RowKey& key, bool by_offset) {
  if (by_offset) return "row at byte " + std::to_string(key.byte_offset);
  if (key.line <= 0) return "row " + std::to_string(key.row);
  return "row " + std::to_string(key.row) + " (line " + std::to_string(key.line) + ")";
}

// A range item's optional "first_row" / "first_line" (jobs/byte_ranges.h).
Result<std::optional<int64_t>> OptionalCount(const json& item, const char* key,
                                             const std::string& shown) {
  auto it = item.find(key);
  if (it == item.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_unsigned() || it->get<uint64_t>() > uint64_t{1} << 62) {
    return InvalidArgument(Quote(shown) + ": a byte-range item's " + key +
                           " must be a non-negative integer");
  }
  return std::optional<int64_t>(it->get<int64_t>());
}

bool IsJsonLines(const std::string& path) {
  const std::string name = ToLower(fs::path(path).filename().string());
  return name.ends_with(".jsonl") || name.ends_with(".ndjson");
}

bool IsParquet(const std::string& path) {
  const std::string name = ToLower(fs::path(path).filename().string());
  return name.size() > 8 && name.ends_with(".parquet");
}

const std::set<std::string, std::less<>> kNumericTypes = {"double", "float", "long", "integer",
                                                          "boolean"};

Status CheckSignatureTypes(const Signature& sig) {
  for (const ColumnSpec& c : sig.inputs) {
    if (!c.name.empty() && !kNumericTypes.contains(c.type)) {
      return InvalidArgument("signature input " + Quote(c.name) + " has type " + Quote(c.type) +
                             "; the native worker scores numeric columns only (double, float, "
                             "long, integer, boolean)");
    }
  }
  return {};
}

Result<ModelKind> ResolveModel(const ScorerOptions& o) {
  const std::string dir = Quote(o.model_dir.string());
  if (o.kind == "xgboost" || o.kind == "torchscript") return DetectModel(o.model_dir, o.kind);
  if (!o.kind.empty() && o.kind != "mlflow_xgboost") {
    return InvalidArgument("the native worker scores kinds mlflow_xgboost, xgboost and " +
                           std::string("torchscript, not ") + Quote(o.kind));
  }
  LOTE_ASSIGN_OR_RETURN(ModelKind m, DetectModel(o.model_dir, "mlflow_model"));
  if (m.kind != "mlflow_xgboost") {
    return InvalidArgument("model folder " + dir + " is an MLflow model of kind " + Quote(m.kind) +
                           ", which the Python runner scores, not the native "
                           "worker");
  }
  return m;
}

}  // namespace

Result<ScorerOptions> ScorerOptionsFromInit(const json& init) {
  ScorerOptions o;
  auto dir = init.find("model_dir");
  if (dir == init.end() || !dir->is_string() || dir->get<std::string>().empty()) {
    return InvalidArgument("init: model_dir must be a non-empty string", "model_dir");
  }
  o.model_dir = dir->get<std::string>();
  auto opts = init.find("options");
  if (opts == init.end() || opts->is_null()) return o;
  if (!opts->is_object()) return InvalidArgument("init: options must be an object", "options");
  if (auto k = opts->find("kind"); k != opts->end() && !k->is_null()) {
    if (!k->is_string())
      return InvalidArgument("init: options.kind must be a string", "options.kind");
    o.kind = k->get<std::string>();
  }
  if (auto t = opts->find("threads"); t != opts->end() && !t->is_null()) {
    if (!t->is_number_integer() || t->get<int64_t>() < 0 || t->get<int64_t>() > 4096) {
      return InvalidArgument("init: options.threads must be an integer from 0 to 4096",
                             "options.threads");
    }
    o.threads = t->get<int>();
  }
  if (auto l = opts->find("layout"); l != opts->end() && !l->is_null()) {
    if (!l->is_string() || (*l != "lote" && *l != "azure")) {
      return InvalidArgument("init: options.layout must be \"lote\" or \"azure\"", "options.layout");
    }
    o.azure_layout = *l == "azure";
  }
  if (auto p = opts->find("passthrough"); p != opts->end() && !p->is_null()) {
    const std::string bad = "init: options.passthrough must be \"*\" or a list of column names";
    if (p->is_string() && *p == "*") {
      o.passthrough_all = true;
    } else if (p->is_array()) {
      for (const json& name : *p) {
        if (!name.is_string() || name.get<std::string>().empty()) {
          return InvalidArgument(bad, "options.passthrough");
        }
        o.passthrough.push_back(name.get<std::string>());
      }
    } else {
      return InvalidArgument(bad, "options.passthrough");
    }
  }
  if (auto c = opts->find("columns"); c != opts->end() && !c->is_null()) {
    if (!c->is_array()) {
      return InvalidArgument("init: options.columns must be a list of column names",
                             "options.columns");
    }
    for (const json& name : *c) {
      if (!name.is_string()) {
        return InvalidArgument("init: options.columns must be a list of column names",
                               "options.columns");
      }
      o.columns.push_back(name.get<std::string>());
    }
  }
  return o;
}

Result<std::unique_ptr<TabularScorer>> TabularScorer::Create(const ScorerOptions& options) {
  std::unique_ptr<TabularScorer> s(new TabularScorer());
  s->options_ = options;
  if (s->options_.chunk_rows == 0) s->options_.chunk_rows = 1;
  LOTE_ASSIGN_OR_RETURN(s->kind_, ResolveModel(options));
  if (s->kind_.signature) LOTE_TRY(CheckSignatureTypes(*s->kind_.signature));
  if (s->kind_.kind == "torchscript") {
    LOTE_ASSIGN_OR_RETURN(s->model_, TorchscriptModel::Load({.model_file = s->kind_.model_file,
                                                             .threads = options.threads,
                                                             .module = options.torch_module}));
    s->options_.chunk_rows = std::min(s->options_.chunk_rows, kTorchChunkRows);
  } else {
    LOTE_ASSIGN_OR_RETURN(s->model_, XgboostModel::Load({.model_file = s->kind_.model_file,
                                                         .threads = options.threads}));
  }
  const uint64_t features = s->model_->num_features();

  if (!options.columns.empty()) {
    s->columns_ = options.columns;
  } else if (s->kind_.signature && s->kind_.signature->HasNamedInputs()) {
    for (const ColumnSpec& c : s->kind_.signature->inputs) s->columns_.push_back(c.name);
  } else {
    s->columns_ = s->model_->feature_names();
  }
  if (!options.passthrough_all && !options.passthrough.empty()) {
    s->passthrough_names_ = options.passthrough;
  }
  if (features == 0) return s;  // the header comes with the first prediction
  if (!s->columns_.empty() && s->columns_.size() != features) {
    return InvalidArgument(std::string(s->model_->library()) + " model '" +
                           s->kind_.model_file.string() + "' takes " + std::to_string(features) +
                           " features, but " + std::to_string(s->columns_.size()) +
                           " input columns are named (" +
                           (options.columns.empty() ? "signature" : "options.columns") + ")");
  }
  // One row of missing values tells how many values a row's prediction has.
  std::vector<float> probe(features, std::numeric_limits<float>::quiet_NaN());
  LOTE_ASSIGN_OR_RETURN(Predictions p, s->model_->Predict(probe.data(), 1, features));
  s->SetOutputs(p.outputs);
  return s;
}

void TabularScorer::SetOutputs(size_t outputs) {
  std::vector<std::string> names;
  if (kind_.signature) {
    for (const ColumnSpec& c : kind_.signature->outputs) {
      if (!c.name.empty()) names.push_back(c.name);
    }
  }
  if (names.size() == outputs) {
    output_names_ = names;
  } else if (outputs == 1) {
    output_names_ = {"prediction"};
  } else {
    for (size_t i = 0; i < outputs; ++i) output_names_.push_back("prediction_" + std::to_string(i));
  }
  BuildHeader();
}

void TabularScorer::BuildHeader() {
  if (output_names_.empty()) return;  // known with the first prediction
  header_ = "file,row";
  std::set<std::string, std::less<>> taken = {"file", "row"};
  for (const std::string& n : output_names_) {
    header_ += "," + CsvField(n);
    taken.insert(n);
  }
  if (!passthrough_names_) return;
  // A passthrough column named as an output column is written "input.<name>"
  // (docs/jobs.md); a header is JSON text in the worker protocol, so bytes
  // that are not UTF-8 are shown escaped ("caf\xe9").
  for (const std::string& n : *passthrough_names_) {
    std::string name = EscapeName(n);
    while (taken.contains(name)) name = "input." + name;
    taken.insert(name);
    header_ += "," + CsvField(name);
  }
}

Status TabularScorer::UsePassthrough(const std::vector<std::string>& names,
                                     const std::string& display) {
  if (!passthrough_names_) {
    passthrough_names_ = names;
    BuildHeader();
    return {};
  }
  if (*passthrough_names_ == names) return {};
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size() && i < 20; ++i) s += (i ? ", " : "") + EscapeName(v[i]);
    if (v.size() > 20) s += ", …";
    return s;
  };
  return InvalidArgument(display + ": passthrough_columns \"*\" gives its columns " +
                         list(names) + ", and an earlier file's were " + list(*passthrough_names_) +
                         "; one output has one header: name the columns to copy");
}

BatchResult TabularScorer::Run(const json& items) {
  BatchResult out;
  // The last batch's buffer (RecyclePayload): its pages are already mapped.
  out.payload = std::move(spare_payload_);
  out.payload.clear();
  for (const json& item : items) {
    // Each item writes into the batch's result directly (no copy of its
    // rows); a failed item is cut back out, so that none of its rows or row
    // errors remain, and counts as one failure.
    const size_t payload_size = out.payload.size();
    const size_t errors_size = out.item_errors.size();
    const int64_t succeeded = out.succeeded;
    const int64_t failed = out.failed;
    Status st = ScoreItem(item, &out);
    if (!st) {
      out.payload.resize(payload_size);
      out.item_errors.erase(out.item_errors.begin() + static_cast<ptrdiff_t>(errors_size),
                            out.item_errors.end());
      out.succeeded = succeeded;
      out.failed = failed + 1;
      out.item_errors.push_back({{"item", ItemDisplayPath(item)}, {"error", st.error().message()}});
    }
  }
  // The matrix is kept for the next batch, unless it is huge (a Parquet file
  // of enormous row groups): an idle worker should not hold that.
  if (parquet_matrix_.capacity() * sizeof(float) > kMaxSparePayloadBytes) {
    std::vector<float>().swap(parquet_matrix_);
  }
  return out;
}

void TabularScorer::RecyclePayload(std::string payload) {
  if (payload.capacity() <= kMaxSparePayloadBytes) spare_payload_ = std::move(payload);
}

Status TabularScorer::ScoreItem(const json& item, BatchResult* out) {
  LOTE_ASSIGN_OR_RETURN(std::string path, ItemPath(item));
  CsvSource src;
  src.path = path;
  // Messages and the output's file column name the file readably.
  const std::string shown = ItemDisplayPath(item);
  src.name = shown;
  src.max_record_bytes = options_.max_record_bytes;
  src.passthrough = options_.passthrough;
  src.passthrough_all = options_.passthrough_all;
  const bool range = item.contains("offset") || item.contains("length");
  if (range) {
    auto off = item.find("offset");
    auto len = item.find("length");
    if (off == item.end() || !off->is_number_unsigned() || len == item.end() ||
        !len->is_number_unsigned()) {
      return InvalidArgument(Quote(shown) +
                             ": a byte-range item needs non-negative integers offset and length");
    }
    src.offset = off->get<uint64_t>();
    src.length = len->get<uint64_t>();
    LOTE_ASSIGN_OR_RETURN(std::optional<std::string> header, ItemHeader(item));
    if (header) src.header = std::move(*header);
    LOTE_ASSIGN_OR_RETURN(src.first_row, OptionalCount(item, "first_row", shown));
    LOTE_ASSIGN_OR_RETURN(src.first_line, OptionalCount(item, "first_line", shown));
  }
  const bool row_groups = item.contains("row_group") || item.contains("row_groups");
  if (IsParquet(path)) {
    if (range)
      return InvalidArgument(Quote(shown) + ": a Parquet file is scored whole or in row groups, " +
                             "not in byte ranges");
    std::optional<RowGroupSpan> span;
    if (row_groups) {
      auto first = item.find("row_group");
      auto count = item.find("row_groups");
      if (first == item.end() || !first->is_number_unsigned() || count == item.end() ||
          !count->is_number_unsigned() || count->get<uint64_t>() == 0) {
        return InvalidArgument(Quote(shown) +
                               ": a row-group item needs a non-negative integer row_group and a "
                               "positive integer row_groups");
      }
      span = RowGroupSpan{first->get<uint64_t>(), count->get<uint64_t>()};
    }
    return ScoreParquetItem(path, shown, span, out);
  }
  if (row_groups) {
    return InvalidArgument(Quote(shown) + ": only a Parquet file is scored in row groups");
  }
  if (IsJsonLines(path)) {
    LOTE_ASSIGN_OR_RETURN(auto reader, JsonlReader::Open(src, columns_));
    return ScoreRows(*reader, src, shown, range && !src.first_row, out);
  }
  LOTE_ASSIGN_OR_RETURN(auto reader, CsvReader::Open(src, columns_));
  return ScoreRows(*reader, src, shown, range && !src.first_row, out);
}

template <class Reader>
Status TabularScorer::ScoreRows(Reader& reader, const CsvSource& src, const std::string& shown,
                                bool by_offset, BatchResult* out) {
  const size_t cols = reader.columns().size();
  const uint64_t features = model_->num_features();
  if (features != 0 && cols != features) {
    return InvalidArgument(Quote(shown) + " has " + std::to_string(cols) +
                           " columns and the model takes " + std::to_string(features) +
                           " features; name the input columns in the MLmodel signature or in "
                           "the runtime's options.columns");
  }
  const std::string display = EscapeName(src.path.filename().string());
  const std::string file = CsvField(display);
  const bool passthrough = !reader.passthrough().empty();
  if (passthrough) LOTE_TRY(UsePassthrough(reader.passthrough(), display));
  int64_t unlisted = 0;
  const size_t listed_before = out->item_errors.size();  // the batch's earlier items'
  CsvChunk chunk;
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool more, reader.Next(options_.chunk_rows, &chunk));
    if (!more) break;
    for (const RowError& e : chunk.errors) {
      ++out->failed;
      if (out->item_errors.size() - listed_before >= kMaxRowErrorsPerItem) {
        ++unlisted;
        continue;
      }
      json err = {{"item", shown},
                  {"error", display + ": " + RowLocation(e.key, by_offset) + ", " + e.message},
                  {"row", RowText(e.key, by_offset)}};
      if (!e.column.empty()) err["column"] = e.column;
      out->item_errors.push_back(std::move(err));
    }
    if (chunk.rows() == 0) continue;
    LOTE_TRY(PredictAndAppend(
        chunk.values.data(), chunk.rows(), cols, display, file,
        RowKeys{.keys = chunk.keys.data(), .by_offset = by_offset, .first = 0},
        passthrough ? &chunk.passthrough : nullptr, out));
  }
  if (unlisted > 0) {
    out->item_errors.push_back(
        {{"item", shown},
         {"error", display + ": " + std::to_string(unlisted) + " more bad rows (not listed)"}});
  }
  return {};
}

Status TabularScorer::PredictAndAppend(const float* values, size_t rows, size_t cols,
                                       const std::string& display, const std::string& file,
                                       const RowKeys& keys, const std::vector<std::string>* extra,
                                       BatchResult* out) {
  Result<Predictions> predicted = model_->Predict(values, rows, cols);
  if (!predicted) return predicted.error().WithContext(display);
  Predictions& p = *predicted;
  if (output_names_.empty()) SetOutputs(p.outputs);
  if (p.outputs != output_names_.size()) {
    return InvalidArgument(display + ": " + model_->library() + " model '" +
                           kind_.model_file.string() + "' gave " + std::to_string(p.outputs) +
                           " values per row, and " + std::to_string(output_names_.size()) +
                           " before; the output's columns are " + header_);
  }
  // The rows are written straight into the payload, bounded first: no
  // append per field, no zeroed bytes, no reallocation per row.
  size_t bound = rows * MaxRowBytes(file, p.outputs);
  if (extra != nullptr) {
    for (size_t r = 0; r < rows; ++r) bound += (*extra)[r].size();
  }
  std::string& payload = out->payload;
  const size_t old_size = payload.size();
  ReserveMore(&payload, bound);
  const bool azure = options_.azure_layout;  // row,<outputs>,file; else file,row,<outputs>
  const float* values_out = p.values.data();
  payload.resize_and_overwrite(old_size + bound, [&](char* buf, size_t) {
    char* w = buf + old_size;
    for (size_t r = 0; r < rows; ++r) {
      if (!azure) {
        std::memcpy(w, file.data(), file.size());
        w += file.size();
        *w++ = ',';
      }
      w = keys.keys != nullptr ? WriteRowKey(w, keys.keys[r], keys.by_offset)
                               : std::to_chars(w, w + kRowKeyChars, keys.first + r).ptr;
      for (size_t k = 0; k < p.outputs; ++k) {
        *w++ = ',';
        // The float widened to double, printed shortest: exactly what Python
        // prints for Booster.predict's value, so lote's output and the
        // library's compare equal.
        w = WriteShortest(static_cast<double>(values_out[r * p.outputs + k]), w);
      }
      if (azure) {
        *w++ = ',';
        std::memcpy(w, file.data(), file.size());
        w += file.size();
      }
      if (extra != nullptr) {
        const std::string& e = (*extra)[r];
        std::memcpy(w, e.data(), e.size());
        w += e.size();
      }
      *w++ = '\n';
    }
    return static_cast<size_t>(w - buf);
  });
  out->succeeded += static_cast<int64_t>(rows);
  return {};
}

}  // namespace lote::native
