// A CSV reader for numeric tabular scoring: selected columns of a CSV file (or
// of a record-aligned byte range of one) into a dense row-major float matrix.
//
// Format: RFC 4180. Fields are separated by ',', records end with "\n" or
// "\r\n"; a quoted field may hold ',', line ends and doubled quotes (""). A
// UTF-8 byte order mark before the header is skipped. Blank lines (nothing but
// spaces and tabs before the line end) are skipped and are not data rows (as
// in pandas); blank lines before the header too.
//
// Header and columns: the header names the file's columns. The reader takes
// the requested columns by name, in the requested order; the file may hold
// extra columns and any column order. A requested column the header lacks is
// an error of the whole source (InvalidArgument naming the column and the
// file). When a name occurs twice in the header, the first one is used.
//
// Cells: parsed with std::from_chars (as double, then rounded to float, as
// pandas + XGBoost do), ignoring spaces around the number; a leading '+' is
// accepted, and so are inf/infinity. Missing values, which become NaN: the
// empty cell, NA, N/A, n/a, NaN, nan, -NaN, -nan, NULL, null, None, #N/A,
// <NA>. true/True/TRUE and false/False/FALSE are 1 and 0. Any other text is
// not a number: its row is a row error and is left out of the matrix, but it
// keeps its row index, so the good rows' keys stay aligned with the input. A
// row whose field count differs from the header's is a row error too.
//
// Row keys: `row` is the 0-based data row of the file: for a byte range,
// counted from CsvSource::first_row (the planner's count of the rows before
// the range: jobs/byte_ranges.h), or from 0 when the source does not give it
// (an item planned by an older lote); `byte_offset` is the absolute offset in
// the file of the row's first byte, unique within the file whatever the
// ranges; `line` is the 1-based line of the file where the row starts: for a
// range counted from CsvSource::first_line, 0 when that is not given.
//
// Parsing allocates nothing per cell: the file is read through one growing
// buffer (a record longer than it doubles it) and fields are spans into it.
// A record (header or row, with its line end) may be at most
// CsvSource::max_record_bytes long (64 MiB): a longer one is an error of the
// whole source (InvalidArgument naming the file, the line or byte offset and
// the limit), so one huge line costs at most that much memory and fails its
// file once. Ranges must end where records end (the planner's are:
// jobs/byte_ranges.h); a range cut inside a quoted field would be read
// as pieces.
//
// Messages name the file by CsvSource::name (readable: common/fs_name.h),
// and quote at most 64 bytes of a cell or column name.
//
// Thread-compatible: one reader per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lote::native {

inline constexpr uint64_t kMaxRecordBytes = uint64_t{64} << 20;

struct CsvSource {
  std::filesystem::path path;
  // How messages name the file; empty: the path as it is.
  std::string name;
  uint64_t max_record_bytes = kMaxRecordBytes;
  // The byte range [offset, offset + *length) of the file, which must start
  // at a line start (after the header) and end at a line end. nullopt: the
  // whole file, whose first record is the header.
  uint64_t offset = 0;
  std::optional<uint64_t> length;
  // A range's header: the file's header record (its first that is not
  // blank), without its line end or a byte order mark; a '\r' left at its
  // end belongs to its last field, as in the whole file. Required for
  // ranges, ignored for whole files.
  std::optional<std::string> header;
  // A range's first row number and first line in the file (the planner's
  // "first_row" and "first_line"); nullopt: unknown (rows are then numbered
  // within the range, and lines are 0).
  std::optional<int64_t> first_row;
  std::optional<int64_t> first_line;
  // Input columns copied into the output beside the predictions
  // (settings.passthrough_columns, docs/jobs.md): by name, in this order, or
  // with passthrough_all every column of the header in its order. A name the
  // header lacks is an error of the whole source, as a missing column is.
  std::vector<std::string> passthrough;
  bool passthrough_all = false;

  bool is_range() const { return length.has_value(); }

  static CsvSource WholeFile(std::filesystem::path path) {
    CsvSource s;
    s.path = std::move(path);
    return s;
  }
  static CsvSource Range(std::filesystem::path path, uint64_t offset, uint64_t length,
                         std::string header) {
    CsvSource s;
    s.path = std::move(path);
    s.offset = offset;
    s.length = length;
    s.header = std::move(header);
    return s;
  }
};

struct RowKey {
  int64_t row = 0;           // 0-based data row of the file (of the range: see above)
  uint64_t byte_offset = 0;  // absolute offset of the row's first byte in the file
  int64_t line = 0;          // 1-based line in the file; 0 when unknown

  bool operator==(const RowKey&) const = default;
};

struct RowError {
  RowKey key;
  std::string column;   // the offending column; empty when the row's shape is wrong
  std::string text;     // the cell's text (unquoted, at most 64 bytes and "…")
  std::string message;  // "column 'fareAmount': 'abc' is not a number"
};

struct CsvChunk {
  size_t num_columns = 0;
  std::vector<float> values;     // rows() × num_columns, row-major, good rows only
  std::vector<RowKey> keys;      // one per good row, in input order
  std::vector<RowError> errors;  // the bad rows, in input order
  // With passthrough columns: per good row, ",<field>,<field>…", each field
  // the cell's text as read (unquoted), written again with RFC 4180 quoting.
  std::vector<std::string> passthrough;

  size_t rows() const { return keys.size(); }
  void Clear();
};

class CsvReader {
 public:
  // Opens the source and maps its header to `columns` (empty: every header
  // column, in the header's order). Errors: IoError when the file cannot be
  // read; InvalidArgument for a missing column ("'<path>': column 'x' is
  // missing; the file's columns: a, b, c"), a file without a header line, a
  // range without `header`, a header record over max_record_bytes.
  static Result<std::unique_ptr<CsvReader>> Open(const CsvSource& source,
                                                 std::vector<std::string> columns);
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  const std::vector<std::string>& header() const { return header_; }
  const std::vector<std::string>& columns() const { return columns_; }
  // The passthrough columns' names (the header's, with passthrough_all).
  const std::vector<std::string>& passthrough() const { return passthrough_; }

  // Reads the next data rows, at most max_rows of them (good and bad rows
  // both count), into *chunk (cleared first). Returns false, with an empty
  // chunk, once the source is exhausted. IoError on a read failure;
  // InvalidArgument for a record over max_record_bytes.
  Result<bool> Next(size_t max_rows, CsvChunk* chunk);

 private:
  CsvReader() = default;
  // Moves the unparsed bytes to the front of buf_ (growing it when full) and
  // reads more; sets eof_ at the end of the source.
  Status Fill();
  Status ParseHeader(std::string_view text);
  // The file as messages name it, quoted.
  std::string Name() const;
  // The error for a record longer than max_record_bytes at the buffer's start.
  Error RecordTooLong() const;

  CsvSource source_;
  int fd_ = -1;
  std::vector<std::string> header_;
  std::vector<std::string> columns_;
  std::vector<int> field_of_column_;  // header field index per requested column
  std::vector<int> column_of_field_;  // the inverse: requested column per field, or -1
  std::vector<std::string> passthrough_;
  std::vector<int> passthrough_fields_;  // header field index per passthrough column
  bool fast_rows_ = true;             // plain numeric rows take the one-pass path

  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;    // unparsed bytes: buf_[begin_, end_)
  uint64_t buf_file_offset_ = 0;  // file offset of buf_[0]
  uint64_t read_pos_ = 0;         // next file offset to read
  uint64_t read_end_ = 0;         // end of the source in the file
  bool eof_ = false;
  int64_t next_row_ = 0;
  int64_t next_line_ = 0;  // 0 for ranges
};

// The double of a plain decimal ("-12.5", "3e-4") with at most 15 digits and
// a power of ten within ±22, bit for bit what std::from_chars gives; false
// for anything else (the caller falls back to from_chars). Exposed for tests.
bool FastDecimal(const char* p, size_t n, double* out);

}  // namespace lote::native
