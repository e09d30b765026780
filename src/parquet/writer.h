// lote's own Parquet writer, for job outputs (predictions.parquet): a flat
// schema of nullable columns, written row by row and flushed a row group at
// a time. docs/parquet.md has the user's view.
//
// What it writes: Parquet format version 1, one OPTIONAL column per field of
// type INT64, DOUBLE, BOOLEAN or BYTE_ARRAY with the UTF-8 (STRING)
// annotation; data pages v1 of about WriterOptions::page_bytes with
// RLE/bit-packed definition levels (a null is a level 0); values PLAIN, or
// for a string column with few distinct values in a row group a dictionary
// page and RLE_DICTIONARY indexes (the key column "file" of an output holds
// a handful of names over millions of rows); pages compressed with SNAPPY,
// ZSTD or not at all. Statistics are not written (they are optional). The
// footer is written with a small Thrift compact writer in writer.cc (the
// counterpart of thrift_compact.h), field ids of parquet-format's parquet.thrift.
//
// Memory: one row group's values (WriterOptions::row_group_rows rows) are
// held until it is flushed. Output goes through a sink the caller gives
// (a file descriptor, a string in tests); the first sink error is returned
// and every later call fails with it.
//
// Errors: InvalidArgument for misuse (a value of the wrong type for its
// column, a row with a missing cell, no columns); the sink's errors as they
// come. Thread-compatible: one writer per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "parquet/metadata.h"

namespace lote::parquet {

enum class WriterType { kInt64, kDouble, kBoolean, kString };
std::string_view WriterTypeName(WriterType t);

struct WriterColumn {
  std::string name;
  WriterType type = WriterType::kString;
};

struct WriterOptions {
  Codec codec = Codec::kZstd;  // kUncompressed, kSnappy or kZstd
  int64_t row_group_rows = 256 * 1024;
  size_t page_bytes = size_t{1} << 20;  // a data page is cut once its values reach this size
  int zstd_level = 3;
  std::string created_by = "lote";
};

// Receives the file's bytes in order.
using ByteSink = std::function<Status(std::string_view)>;

class Writer {
 public:
  static Result<std::unique_ptr<Writer>> Create(std::vector<WriterColumn> columns, WriterOptions options,
                                                ByteSink sink);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // One row: a value or Null for each column in order, then EndRow.
  void Null();
  void Int64(int64_t v);
  void Double(double v);
  void Bool(bool v);
  void String(std::string_view v);
  // Checks the row has a value per column; flushes a full row group.
  Status EndRow();

  // Flushes the last row group and writes the footer. The writer is done.
  Status Finish();

  int64_t rows() const { return rows_; }
  const std::vector<WriterColumn>& columns() const { return columns_; }

 private:
  struct Buffer;
  Writer() = default;
  Status FlushRowGroup();
  Status Emit(std::string_view bytes);
  Status Misuse(std::string msg);

  std::vector<WriterColumn> columns_;
  WriterOptions options_;
  ByteSink sink_;
  std::vector<std::unique_ptr<Buffer>> buffers_;
  size_t cell_ = 0;  // the column the next value goes to
  int64_t group_rows_ = 0;
  int64_t rows_ = 0;
  uint64_t offset_ = 0;  // bytes emitted so far
  std::string row_groups_;  // the footer's RowGroup structs, written as each is flushed
  int32_t num_row_groups_ = 0;
  Status failed_;
  bool finished_ = false;
};

}  // namespace lote::parquet
