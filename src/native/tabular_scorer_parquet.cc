// TabularScorer's Parquet items (tabular_scorer.h): whole files or spans of
// row groups, decoded column by column into the model's matrix.
#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/float_text.h"
#include "common/fs_name.h"
#include "common/util.h"
#include "native/csv_reader.h"
#include "native/tabular_scorer.h"
#include "native/tabular_scorer_rows.h"
#include "parquet/parquet_file.h"

namespace lote::native {

namespace fs = std::filesystem;

namespace {

// The passthrough text of the `rows` rows of row group g: (*out)[r] is
// ",<cell>,<cell>…" for columns `cols`: a string as it is, an integer in
// full (exact up to 2^53: values are read as doubles), a boolean as
// true/false, a float or decimal in the shortest form that reads back the
// same, a null as an empty cell.
Status ParquetPassthrough(const parquet::ParquetFile& pq, size_t g, const std::vector<size_t>& cols,
                          size_t rows, std::vector<std::string>* out) {
  out->assign(rows, std::string());
  std::vector<double> nums;
  for (size_t c : cols) {
    const parquet::ColumnInfo& info = pq.columns()[c];
    if (info.kind == parquet::ColumnKind::kString) {
      LOTE_ASSIGN_OR_RETURN(auto strs, pq.ReadStrings(g, c));
      for (size_t r = 0; r < rows; ++r) {
        (*out)[r] += ',';
        if (strs[r]) (*out)[r] += CsvField(*strs[r]);
      }
      continue;
    }
    if (info.kind == parquet::ColumnKind::kUnsupported) {
      return InvalidArgument(pq.name() + ": passthrough column " + Quote(info.name) + " has type " +
                             info.TypeName() + ", which lote cannot read");
    }
    nums.resize(rows);
    LOTE_TRY(pq.ReadDoubles(g, std::span<const size_t>(&c, 1), nums.data(), 1));
    char buf[64];
    for (size_t r = 0; r < rows; ++r) {
      std::string& s = (*out)[r];
      s += ',';
      const double v = nums[r];
      if (std::isnan(v)) continue;
      if (info.kind == parquet::ColumnKind::kBoolean) {
        s += v != 0 ? "true" : "false";
      } else if (info.kind == parquet::ColumnKind::kInteger) {
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v));
        s.append(buf, end);
      } else {
        s.append(buf, WriteShortest(v, buf));
      }
    }
  }
  return {};
}

}  // namespace

Status TabularScorer::ScoreParquetItem(const std::string& path, const std::string& shown,
                                       std::optional<RowGroupSpan> span, BatchResult* out) {
  const std::string display = EscapeName(fs::path(path).filename().string());
  LOTE_ASSIGN_OR_RETURN(auto pq, parquet::ParquetFile::Open(path, display));
  const uint64_t groups = pq->row_groups().size();
  const RowGroupSpan todo = span.value_or(RowGroupSpan{0, groups});
  if (todo.first > groups || todo.count > groups - todo.first) {
    return InvalidArgument(display + ": the item asks for row groups " + std::to_string(todo.first) +
                           ".." + std::to_string(todo.first + todo.count - 1) + ", but the file has " +
                           std::to_string(groups) + " (it changed after the job was planned)");
  }
  // The model's columns by name; with none named, every column in file order.
  std::vector<std::string> names = columns_;
  if (names.empty()) {
    for (const parquet::ColumnInfo& c : pq->columns()) names.push_back(c.name);
  }
  LOTE_ASSIGN_OR_RETURN(std::vector<size_t> idx, pq->NumericColumns(names));
  const size_t cols = idx.size();
  const uint64_t features = model_->num_features();
  if (features != 0 && cols != features) {
    return InvalidArgument(
        Quote(shown) + " has " + std::to_string(cols) + " columns and the model takes " +
        std::to_string(features) +
        " features; name the input columns in the MLmodel signature or in the runtime's "
        "options.columns");
  }
  const std::string file = CsvField(display);
  // The passthrough columns, by name (every column for "*").
  std::vector<std::string> pass_names = options_.passthrough;
  if (options_.passthrough_all) {
    for (const parquet::ColumnInfo& c : pq->columns()) pass_names.push_back(c.name);
  }
  std::vector<size_t> pass_idx;
  for (const std::string& n : pass_names) {
    std::optional<size_t> at = pq->FindColumn(n);
    if (!at) {
      std::string have;
      for (size_t i = 0; i < pq->columns().size() && i < 20; ++i) {
        have += (i ? ", " : "") + pq->columns()[i].name;
      }
      if (pq->columns().size() > 20) have += ", …";
      return InvalidArgument(display + ": passthrough column " + Quote(n) +
                             " is missing; the file's columns: " + have);
    }
    pass_idx.push_back(*at);
  }
  if (!pass_names.empty()) LOTE_TRY(UsePassthrough(pass_names, display));
  // The item's rows are known: room for all of them at once, so that the
  // payload is not copied as it grows (passthrough text excepted).
  uint64_t item_rows = 0;
  for (size_t g = todo.first; g < todo.first + todo.count; ++g) {
    item_rows += static_cast<uint64_t>(pq->row_groups()[g].rows);
  }
  const size_t row_bound = MaxRowBytes(file, std::max<size_t>(1, outputs()));
  if (item_rows <= (size_t{1} << 30) / row_bound) {
    ReserveMore(&out->payload, static_cast<size_t>(item_rows) * row_bound);
  }
  // The scorer's matrix, kept from file to file: its pages are mapped and its
  // size settles at the largest row group, so a file costs no allocation and
  // no zeroing (ReadFloats writes every cell).
  std::vector<float>& matrix = parquet_matrix_;
  std::vector<std::string> extra;
  for (size_t g = todo.first; g < todo.first + todo.count; ++g) {
    const parquet::RowGroupInfo& rg = pq->row_groups()[g];
    const auto rows = static_cast<size_t>(rg.rows);
    matrix.resize(rows * cols);
    LOTE_TRY(pq->ReadFloats(g, idx, matrix.data(), cols));
    if (!pass_idx.empty()) LOTE_TRY(ParquetPassthrough(*pq, g, pass_idx, rows, &extra));
    for (size_t begin = 0; begin < rows; begin += options_.chunk_rows) {
      const size_t n = std::min(options_.chunk_rows, rows - begin);
      const auto first = static_cast<uint64_t>(rg.first_row) + begin;
      std::vector<std::string> part;
      if (!pass_idx.empty()) {
        part.assign(std::make_move_iterator(extra.begin() + static_cast<ptrdiff_t>(begin)),
                    std::make_move_iterator(extra.begin() + static_cast<ptrdiff_t>(begin + n)));
      }
      LOTE_TRY(PredictAndAppend(
          matrix.data() + begin * cols, n, cols, display, file,
          RowKeys{.keys = nullptr, .by_offset = false, .first = first},
          pass_idx.empty() ? nullptr : &part, out));
    }
  }
  return {};
}

}  // namespace lote::native
