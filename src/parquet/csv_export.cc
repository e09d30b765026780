#include "parquet/csv_export.h"

#include <charconv>
#include <cmath>

#include "common/float_text.h"
#include "parquet/fmt.h"

namespace lote::parquet {

namespace {

void AppendField(std::string& out, std::string_view s) {
  if (s.empty()) {
    out += "\"\"";
    return;
  }
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += s;
    return;
  }
  out.push_back('"');
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void AppendNumber(std::string& out, double v, bool integer) {
  if (std::isnan(v)) return;  // a null
  char buf[40];
  if (integer && std::fabs(v) < 9.3e18) {
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v));
    out.append(buf, p);
    return;
  }
  out.append(buf, WriteShortest(v, buf));  // std::to_chars's text, faster
}

}  // namespace

Result<int64_t> ExportCsv(const ParquetFile& file, const CsvExportOptions& options, const ByteSink& sink) {
  const size_t groups = file.row_groups().size();
  const size_t first = options.first_row_group;
  const size_t count = options.row_groups.value_or(first <= groups ? groups - first : 0);
  if (first > groups || count > groups - first) {
    return InvalidArgument(Fmt("{}: row groups {}..{} asked for, but the file has {}", file.name(), first,
                               first + count - 1, groups));
  }
  std::vector<size_t> idx;
  if (options.columns.empty()) {
    for (size_t c = 0; c < file.columns().size(); ++c) idx.push_back(c);
  } else {
    for (const std::string& name : options.columns) {
      auto c = file.FindColumn(name);
      if (!c) {
        std::string have;
        for (size_t i = 0; i < file.columns().size() && i < 20; ++i) {
          have += (i ? ", " : "") + file.columns()[i].name;
        }
        if (file.columns().size() > 20) have += ", …";
        return InvalidArgument(Fmt("{}: missing column '{}'; the file's columns: {}", file.name(), name, have));
      }
      idx.push_back(*c);
    }
  }
  for (size_t c : idx) {
    if (file.columns()[c].kind == ColumnKind::kUnsupported) {
      return InvalidArgument(Fmt("{}: column '{}' is {}, which lote cannot read", file.name(),
                                 file.columns()[c].name, file.columns()[c].TypeName()));
    }
  }
  std::string out;
  const bool numbered = !options.row_number_column.empty();
  if (numbered) AppendField(out, options.row_number_column);
  for (size_t i = 0; i < idx.size(); ++i) {
    if (i || numbered) out.push_back(',');
    AppendField(out, file.columns()[idx[i]].name);
  }
  out.push_back('\n');

  // Per row group: numeric columns decoded together into a double matrix,
  // string columns one by one.
  std::vector<size_t> numeric, strings;
  for (size_t i = 0; i < idx.size(); ++i) {
    (file.columns()[idx[i]].kind == ColumnKind::kString ? strings : numeric).push_back(i);
  }
  std::vector<size_t> numeric_cols;
  for (size_t i : numeric) numeric_cols.push_back(idx[i]);
  int64_t rows_out = 0;
  std::vector<double> matrix;
  std::vector<std::vector<std::optional<std::string>>> text(idx.size());
  for (size_t g = first; g < first + count; ++g) {
    const auto rows = static_cast<size_t>(file.row_groups()[g].rows);
    matrix.assign(rows * numeric.size(), 0.0);
    if (!numeric.empty()) LOTE_TRY(file.ReadDoubles(g, numeric_cols, matrix.data(), numeric.size()));
    for (size_t i : strings) {
      LOTE_ASSIGN_OR_RETURN(text[i], file.ReadStrings(g, idx[i]));
    }
    std::vector<int> slot(idx.size(), -1);  // column -> its place in the matrix
    for (size_t k = 0; k < numeric.size(); ++k) slot[numeric[k]] = static_cast<int>(k);
    const auto first_row = static_cast<uint64_t>(file.row_groups()[g].first_row);
    for (size_t r = 0; r < rows; ++r) {
      if (numbered) {
        char buf[24];
        auto [p, ec] = std::to_chars(buf, buf + sizeof buf, first_row + r);
        out.append(buf, p);
      }
      for (size_t i = 0; i < idx.size(); ++i) {
        if (i || numbered) out.push_back(',');
        const ColumnInfo& col = file.columns()[idx[i]];
        if (slot[i] < 0) {
          if (const auto& s = text[i][r]) AppendField(out, *s);
          continue;
        }
        const double v = matrix[r * numeric.size() + static_cast<size_t>(slot[i])];
        if (col.kind == ColumnKind::kBoolean) {
          if (!std::isnan(v)) out += v != 0 ? "true" : "false";
        } else {
          AppendNumber(out, v, col.kind == ColumnKind::kInteger);
        }
      }
      out.push_back('\n');
      if (out.size() >= (size_t{1} << 20)) {
        LOTE_TRY(sink(out));
        out.clear();
      }
    }
    rows_out += static_cast<int64_t>(rows);
  }
  LOTE_TRY(sink(out));
  return rows_out;
}

}  // namespace lote::parquet
