// The format of a job's output file (settings.output_format): csv, as the
// workers commit their rows, or parquet / jsonl, converted from that CSV when
// the output is assembled (output_assembly.h). docs/parquet.md, "Parquet
// output", has the user's view.
//
// Conversion reads the assembled CSV (RFC 4180, a header line unless the
// job's layout has none) twice: once to choose each column's type, once to
// write. A column's type is the narrowest that holds every value: INT64
// (decimal integers that fit), DOUBLE (numbers, nan and inf included),
// BOOLEAN (True/False/true/false), else STRING; an empty unquoted field is
// a null, "" an empty string. The key column "file" is always a string.
// A file without a header (output_layout: azure) names its columns
// column_0, column_1, …
//
// Parquet: writer.h (ZSTD, row groups of ConvertOptions::row_group_rows).
// JSON Lines: one object per row, keys in the header's order, numbers as
// JSON numbers (a non-finite double is null), nulls as null.
//
// Errors: InvalidArgument naming the line of the CSV at fault (a row whose
// field count differs from the header's, a quote never closed); IoError for
// reads and writes. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lote::jobs {

enum class OutputFormat { kCsv, kParquet, kJsonl };

// "csv" | "parquet" | "jsonl" (any case, as validated by NormalizeDeployment).
Result<OutputFormat> ParseOutputFormat(std::string_view s);
std::string_view OutputFormatName(OutputFormat f);

// The output file's name in `format`: a name ending in ".csv" (any case) gets
// the format's extension instead ("predictions.csv" -> "predictions.parquet"),
// one already ending in the format's extension is kept, any other gets it
// appended ("scores" -> "scores.parquet"). csv keeps the name as it is.
std::string OutputFileNameFor(const std::string& name, OutputFormat format);

struct ConvertOptions {
  bool has_header = true;
  int64_t row_group_rows = 256 * 1024;
};

// Converts the CSV read from in_fd (from its offset 0) into `format` written
// to out_fd (at its current offset). Returns the data rows written.
Result<int64_t> ConvertCsvOutput(int in_fd, int out_fd, OutputFormat format, const ConvertOptions& options);

}  // namespace lote::jobs
