// lote's own Parquet reader: opens a file, lists its columns and row groups,
// and decodes chosen columns of a row group straight into a dense row-major
// float (or double) matrix, with no rows of text in between. Strings of a
// string column come on request. docs/parquet.md has the user's view.
//
// Supported: flat schemas (a nested or repeated column is refused at Open,
// naming it); physical types BOOLEAN, INT32, INT64, FLOAT, DOUBLE,
// BYTE_ARRAY (strings) and FIXED_LEN_BYTE_ARRAY holding a DECIMAL (INT32 and
// INT64 decimals too); encodings PLAIN, PLAIN_DICTIONARY/RLE_DICTIONARY,
// RLE (booleans), DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
// BYTE_STREAM_SPLIT; nulls through RLE/bit-packed definition levels (NaN in
// the matrix); codecs UNCOMPRESSED, SNAPPY, GZIP, ZSTD; data pages v1 and
// v2. Refused with an error when asked for: INT96, other fixed-length
// arrays, LZ4/BROTLI/LZO, DELTA_BYTE_ARRAY, encrypted files, column chunks
// in other files. The footer's Thrift compact protocol is parsed by our own
// reader (thrift_compact.h), not generated code.
//
// Errors: InvalidArgument (IoError for the file system) whose message names
// the file, and where it applies the row group, the column and the page,
// and what was wrong: "x.parquet: row group 1: column 'fare': page 0 at
// chunk byte 0: SNAPPY data does not decompress". Hostile files are
// expected: nothing is read outside the file, and allocations are bounded by
// the file's size or by the row counts the caller sizes its output for
// (column_reader.h).
//
// A ParquetFile is immutable after Open; its Read* methods are const and may
// be called from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "parquet/column_reader.h"
#include "parquet/metadata.h"

namespace lote::parquet {

enum class ColumnKind {
  kBoolean,      // BOOLEAN: 0 or 1
  kInteger,      // INT32, INT64
  kFloat,        // FLOAT, DOUBLE
  kDecimal,      // INT32, INT64 or FIXED_LEN_BYTE_ARRAY with a DECIMAL annotation
  kString,       // BYTE_ARRAY
  kUnsupported,  // INT96, FIXED_LEN_BYTE_ARRAY that is not a decimal
};

struct ColumnInfo {
  std::string name;
  PhysicalType physical = PhysicalType::kInt32;
  ColumnKind kind = ColumnKind::kInteger;
  int32_t scale = 0;  // decimals
  int32_t precision = 0;
  bool nullable = false;
  // "INT64", "DECIMAL(9,2)", "STRING", ... for messages and listings.
  std::string TypeName() const;
};

struct RowGroupInfo {
  int64_t rows = 0;
  int64_t first_row = 0;         // the row number of its first row in the file
  int64_t byte_size = 0;         // uncompressed, as the footer states it
  int64_t compressed_bytes = 0;  // the sum of its column chunks
  // The bytes of the file its column chunks lie in: [data_begin, data_end),
  // checked to be in the data, before the footer. A reader of this row group
  // touches only these bytes and the footer.
  uint64_t data_begin = 0;
  uint64_t data_end = 0;
};

class ParquetFile {
 public:
  // Maps the file read-only and parses its footer. Messages name the file
  // as `name` (its path when empty).
  static Result<std::unique_ptr<ParquetFile>> Open(const std::string& path, std::string name = {});
  // Reads `bytes`, which the caller keeps alive as long as the ParquetFile;
  // `name` stands for the file in messages.
  static Result<std::unique_ptr<ParquetFile>> FromBytes(std::string name, std::string_view bytes);
  ~ParquetFile();
  ParquetFile(const ParquetFile&) = delete;
  ParquetFile& operator=(const ParquetFile&) = delete;

  const std::string& name() const { return name_; }
  int64_t num_rows() const { return num_rows_; }
  const std::vector<ColumnInfo>& columns() const { return columns_; }
  const std::vector<RowGroupInfo>& row_groups() const { return row_groups_; }
  const std::string& created_by() const { return created_by_; }
  // The file's size, and where its footer (with its length and the closing
  // magic) begins: [footer_begin(), size()) is read by Open.
  uint64_t size() const { return bytes_.size(); }
  uint64_t footer_begin() const { return data_end_; }

  std::optional<size_t> FindColumn(std::string_view name) const;
  // The indexes of `names`, for Read*; an error names the file and the first
  // column missing, or a column that cannot become a number.
  Result<std::vector<size_t>> NumericColumns(std::span<const std::string> names) const;

  // Decodes `columns` of row group `row_group` into out, row-major: value
  // (r, k) at out[r * row_stride + k], row_stride >= columns.size(); out
  // holds row_groups()[row_group].rows rows. Nulls become NaN; integers,
  // booleans and decimals are cast. A string or unsupported column is an
  // error.
  Status ReadFloats(size_t row_group, std::span<const size_t> columns, float* out,
                    size_t row_stride) const;
  Status ReadDoubles(size_t row_group, std::span<const size_t> columns, double* out,
                     size_t row_stride) const;
  // A string column's values in a row group (nullopt for null).
  Result<std::vector<std::optional<std::string>>> ReadStrings(size_t row_group,
                                                              size_t column) const;

 private:
  ParquetFile() = default;
  Status Parse();
  template <class T>
  Status ReadNumbers(size_t row_group, std::span<const size_t> columns, T* out,
                     size_t row_stride) const;
  Error ColumnError(size_t row_group, size_t column, const Error& e) const;

  std::string name_;
  std::string_view bytes_;
  void* map_ = nullptr;  // the mapping behind bytes_ when Open made one
  size_t map_size_ = 0;
  size_t data_end_ = 0;  // where the footer starts
  int64_t num_rows_ = 0;
  std::string created_by_;
  std::vector<ColumnInfo> columns_;
  std::vector<ColumnDesc> descs_;
  std::vector<RowGroupInfo> row_groups_;
  FileMetaData meta_;
};

}  // namespace lote::parquet
