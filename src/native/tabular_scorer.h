// No-code tabular scoring: CSV, JSON Lines or Parquet rows in, one output row per input row out.
//
// The native worker's model for MLflow folders with the xgboost flavor
// (kind "mlflow_xgboost"), plain XGBoost model files (kind "xgboost") and
// TorchScript files (kind "torchscript", scored through lote's libtorch
// module: native/torchscript_model.h). Create() loads the model once; Run()
// scores one mini-batch. Whatever the model, CSV reading, row errors, output
// rows and counts are the same (the model is a native/tabular_model.h).
//
// Init options (the init message's "options"):
//   "kind":    "mlflow_xgboost" | "xgboost" | "torchscript"; absent: detected
//              from model_dir (a folder with an MLmodel file)
//   "threads": the CPU threads the model predicts with (absent or 0: every
//              core); the agent sets it so that workers × threads fits the
//              machine
//   "columns": the input columns, in the model's feature order (overrides
//              the signature)
// The columns taken from each file: options.columns, else the signature's
// named inputs, else the feature names saved in the model, else every column
// of the file in its order (which must then match the feature count of an
// XGBoost model; a TorchScript model takes the columns as they come, and
// fails in forward() when it cannot).
//
// Parquet: an item whose file name ends in .parquet (any case) is read with
// lote's own reader (parquet/parquet_file.h), one row group at a time,
// straight into the float matrix the model takes: the whole file, or for an
// item {"path", "row_group": first, "row_groups": count} (a large file cut by
// the planner: jobs/planner_parquet.h) those row groups only. Columns are
// matched by name, integers, booleans and decimals cast, nulls are missing
// values (NaN), extra columns ignored; a missing column, or one that is not
// numeric, fails the item with a message naming the file and the column.
// Its output rows carry the 0-based row of the whole file, as for CSV,
// also in a row-group item; a row-group item past the file's row groups
// fails (the file changed after planning).
//
// JSON Lines: an item whose file name ends in .jsonl or .ndjson (any case)
// is read by native/jsonl_reader.h: one object per line, the columns by key;
// a line that is not a JSON object, lacks a key or holds a string where a
// number belongs is a bad row (its error names the file, the line and why),
// not a failed item. Byte-range items are read as for CSV (no header).
//
// Output rows: `file,row,<outputs>` where file is the input's base name and
// row is the 0-based data row of the file (the header excluded, blank lines
// skipped), for a byte-range item too: the planner gives each range the
// number of its first row ("first_row", jobs/byte_ranges.h), so a file's
// rows are numbered alike whatever the mini-batch size. A range item
// without "first_row" (planned by an older lote, a job resumed after an upgrade) keeps that version's
// key: "@" and the byte offset in the file where the row starts. The outputs are
// "prediction" for one output, or named by the signature's outputs when it
// names as many as the model gives, or prediction_0, prediction_1, … (e.g.
// class probabilities). Numbers are written in the shortest form that reads
// back as the same float.
//
// The header: an XGBoost model is probed with one row of missing values at
// Create(), so header() is known from the start. A TorchScript model is not
// (its input width comes from the files), so header() is empty until the
// first rows are predicted, and every later prediction must have as many
// outputs as the first: one with another width fails its item. header() is
// therefore right for every row Run() has returned, and empty only while no
// row has been scored.
//
// Items name their files with common/fs_name.h's byte fields ("path_b64"
// for a name that is not UTF-8); the output's file column and every message
// show the readable form ("caf\xe9.csv").
//
// Counts: succeeded is the rows scored, failed the bad rows (a non-numeric
// cell, a wrong field count) plus one per item that failed as a whole (it
// cannot be read, lacks a column, holds a record over max_record_bytes, the
// model fails on it): such an item's rows are not output, even those read
// before the failure. item_errors has one
// entry per bad row (at most kMaxRowErrorsPerItem per item, then one entry
// counting the rest) and one per failed item.
//
// Thread-compatible: one scorer per worker process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "native/csv_reader.h"
#include "native/mlmodel.h"
#include "native/tabular_model.h"

namespace lote::native {

inline constexpr size_t kMaxRowErrorsPerItem = 100;
inline constexpr size_t kTorchChunkRows = 4096;
inline constexpr size_t kMaxSparePayloadBytes = size_t{256} << 20;

struct ScorerOptions {
  std::filesystem::path model_dir;
  std::string kind;  // "mlflow_xgboost" | "xgboost" | "torchscript" | "" (detect)
  int threads = 0;
  std::vector<std::string> columns;    // empty: see the header comment
  size_t chunk_rows = 64 * 1024;       // rows predicted per call (TorchScript: at most
                                       // kTorchChunkRows, bounding the model's activations)
  std::filesystem::path torch_module;  // empty: native/torch_module.h finds it
  // The longest CSV record (header or row) an item may hold; a longer one
  // fails its item with a message naming the file, the line (or byte) and
  // the limit (native/csv_reader.h).
  uint64_t max_record_bytes = kMaxRecordBytes;
  // options.layout "azure": rows as Azure's MLflow driver writes them,
  // `row,<outputs>,file` with no header (docs/azure-output.md); else
  // lote's `file,row,<outputs>` under a header.
  bool azure_layout = false;
  // options.passthrough: input columns copied into each output row after
  // the predictions (after `file` in the azure layout), by name, or every
  // input column with passthrough_all (docs/jobs.md, "passthrough_columns").
  std::vector<std::string> passthrough;
  bool passthrough_all = false;
};

// Reads ScorerOptions from an init message (model_dir, options.kind,
// options.threads, options.columns). InvalidArgument naming the bad field.
Result<ScorerOptions> ScorerOptionsFromInit(const nlohmann::json& init);

struct BatchResult {
  int64_t succeeded = 0;
  int64_t failed = 0;
  nlohmann::json item_errors = nlohmann::json::array();  // [{"item", "error", …}]
  std::string payload;                                   // output rows, each ending in '\n'
};

class TabularScorer {
 public:
  // Detects and loads the model. Errors name the model folder or file.
  static Result<std::unique_ptr<TabularScorer>> Create(const ScorerOptions& options);

  // The CSV header of the output rows: "file,row,prediction"; empty until
  // the first prediction of a TorchScript model (see above).
  // Empty in the azure layout, which has none.
  const std::string& header() const { return options_.azure_layout ? kNoHeader : header_; }
  const std::vector<std::string>& columns() const { return columns_; }
  size_t outputs() const { return output_names_.size(); }

  // Scores the items of one mini-batch: [{"path"}, or {"path", "offset",
  // "length", "header"}]. Item problems are reported in the result, never as
  // an Error.
  BatchResult Run(const nlohmann::json& items);
  // Hands back a payload Run() returned, once it is sent: the next Run()
  // writes into it, so that its memory is not unmapped and faulted in again
  // for every mini-batch (one kept, at most kMaxSparePayloadBytes; the
  // Parquet matrix is kept between batches under the same bound).
  void RecyclePayload(std::string payload);

 private:
  TabularScorer() = default;
  // Scores one item into `out`; an Error fails the item as a whole.
  Status ScoreItem(const nlohmann::json& item, BatchResult* out);
  // Row groups [first, first + count) of a .parquet file.
  struct RowGroupSpan {
    uint64_t first = 0;
    uint64_t count = 0;
  };
  // A .parquet file, row group by row group (parquet/parquet_file.h): all
  // of them, or span's.
  Status ScoreParquetItem(const std::string& path, const std::string& shown,
                          std::optional<RowGroupSpan> span, BatchResult* out);
  // Scores the rows of a CSV or JSON Lines reader (CsvReader, JsonlReader).
  template <class Reader>
  Status ScoreRows(Reader& reader, const CsvSource& src, const std::string& shown, bool by_offset,
                   BatchResult* out);
  // The key each output row gets: the reader's (CSV, JSON Lines: keys[r],
  // by byte offset for ranges planned by older versions) or consecutive row
  // numbers from `first` (Parquet: keys null).
  struct RowKeys {
    const RowKey* keys = nullptr;
    bool by_offset = false;
    uint64_t first = 0;
  };
  // Predicts `rows` rows of `values` (row-major, `cols` wide) and appends an
  // output row for each, "file,<row key>,outputs".
  // extra: per row, the passthrough text appended to it (",a,b"), or null.
  Status PredictAndAppend(const float* values, size_t rows, size_t cols, const std::string& display,
                          const std::string& file, const RowKeys& keys,
                          const std::vector<std::string>* extra, BatchResult* out);
  // Names the outputs and sets the header, once the model's width is known.
  void SetOutputs(size_t outputs);
  // The passthrough columns of an item's file: the first item fixes them
  // (for "*", its file's columns); an item whose differ fails, because the
  // output has one header.
  Status UsePassthrough(const std::vector<std::string>& names, const std::string& display);
  void BuildHeader();

  ScorerOptions options_;
  ModelKind kind_;
  std::unique_ptr<TabularModel> model_;
  std::vector<std::string> columns_;
  std::vector<std::string> output_names_;
  std::optional<std::vector<std::string>> passthrough_names_;  // fixed by the first item
  std::string spare_payload_;         // RecyclePayload's
  std::vector<float> parquet_matrix_;  // a row group's values (ScoreParquetItem)
  std::string header_;  // also names the columns in messages, whatever the layout
  static inline const std::string kNoHeader;
};

}  // namespace lote::native
