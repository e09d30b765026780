// A Parquet file's rows as CSV text, for readers that have no Parquet
// library: the Python runner's no-code driver runs `lote parquet decode`
// (src/exe/data_command.cc) and reads its output with pandas
// (docs/parquet.md, "The Python runner").
//
// Output: RFC 4180, a header of the chosen column names, then one record per
// row, "\n" line ends. Values: integers (INT32, INT64) as decimal integers,
// exact up to 2^53; FLOAT, DOUBLE and decimals as the shortest text that
// reads back as the same double (a FLOAT is widened first); BOOLEAN as
// true/false; strings as they are, quoted when they hold ',', '"', '\r' or
// '\n', and an empty string as ""; a null as an empty field.
//
// Errors (InvalidArgument naming the file): a row-group range past the
// file's row groups, a missing column ("a.parquet: missing column 'x'; the
// file's columns: a, b"), a column of a type it cannot read (INT96, …), and
// the reader's own errors (a corrupt page, …). Rows already handed to the
// sink stay there: the caller fails the whole item on an error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "parquet/parquet_file.h"
#include "parquet/writer.h"

namespace lote::parquet {

struct CsvExportOptions {
  size_t first_row_group = 0;
  std::optional<size_t> row_groups = std::nullopt;  // nullopt: to the last
  std::vector<std::string> columns = {};  // empty: every column, in file order
  // When set, a first column of this name holds each row's 0-based number in
  // the file (the row group's first row + its row in the group).
  std::string row_number_column = {};
};

// Returns the rows written.
Result<int64_t> ExportCsv(const ParquetFile& file, const CsvExportOptions& options, const ByteSink& sink);

}  // namespace lote::parquet
