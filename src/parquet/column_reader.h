// Decodes one column chunk of a flat Parquet schema, page by page, into a
// sink: a strided float/double matrix column (NumberSink) or strings
// (StringSink). Used by ParquetFile (parquet_file.h); tests and the fuzzer
// reach it through there.
//
// Pages: dictionary, data page v1 and v2 (index pages are skipped).
// Value encodings: PLAIN, PLAIN_DICTIONARY/RLE_DICTIONARY, RLE (booleans),
// DELTA_BINARY_PACKED (INT32/INT64), DELTA_LENGTH_BYTE_ARRAY (BYTE_ARRAY),
// BYTE_STREAM_SPLIT (FLOAT, DOUBLE, INT32, INT64, FIXED_LEN_BYTE_ARRAY).
// Definition levels: RLE/bit-packed hybrid, max level 1 (nulls).
//
// Bounds: the chunk's bytes must lie inside the file's data region, every
// page inside its chunk; a page's decompressed size is at most kMaxPageBytes
// and must be what its header says; a page may not hold more values than the
// row group has rows left. Allocations are bounded by a page's size or by
// the row group's row count (what the caller sized its output for).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "parquet/metadata.h"

namespace lote::parquet {

inline constexpr size_t kMaxPageBytes = size_t{256} << 20;

// What the decoder needs to know of a column (from its schema element).
struct ColumnDesc {
  std::string name;
  int32_t physical = 0;     // PhysicalType
  int32_t type_length = 0;  // FIXED_LEN_BYTE_ARRAY's width
  bool optional = false;    // max definition level 1
  bool decimal = false;     // INT32/INT64/FIXED_LEN_BYTE_ARRAY holding unscaled decimals
  int32_t scale = 0;
};

// Writes values as T (float or double) at out[row * stride]; NaN for null.
// Integers convert straight to T (one rounding), decimals through double.
template <class T>
struct NumberSink {
  T* out;
  size_t stride;
  double decimal_divisor = 1.0;  // 10^scale for decimals
  bool decimal = false;

  void Null(size_t row) { out[row * stride] = std::numeric_limits<T>::quiet_NaN(); }
  void Put(size_t row, int32_t v) {
    out[row * stride] = decimal ? static_cast<T>(v / decimal_divisor) : static_cast<T>(v);
  }
  void Put(size_t row, int64_t v) {
    out[row * stride] =
        decimal ? static_cast<T>(static_cast<double>(v) / decimal_divisor) : static_cast<T>(v);
  }
  void Put(size_t row, float v) { out[row * stride] = static_cast<T>(v); }
  void Put(size_t row, double v) { out[row * stride] = static_cast<T>(v); }
  void PutBool(size_t row, bool v) { out[row * stride] = v ? T(1) : T(0); }
  // A FIXED_LEN_BYTE_ARRAY decimal: big-endian two's complement, 1..16 bytes
  // (checked against the schema before decoding starts).
  void Put(size_t row, std::string_view bytes) {
    unsigned __int128 u = 0;
    for (char c : bytes) u = (u << 8) | static_cast<uint8_t>(c);
    size_t bits = bytes.size() * 8;
    if (bits < 128 && (static_cast<uint8_t>(bytes[0]) & 0x80))
      u |= ~static_cast<unsigned __int128>(0) << bits;
    out[row * stride] =
        static_cast<T>(static_cast<double>(static_cast<__int128>(u)) / decimal_divisor);
  }
};

// Collects a string column's values (nullopt for null), rows [base, base+n).
struct StringSink {
  std::vector<std::optional<std::string>>* out;

  void Null(size_t row) { (*out)[row].reset(); }
  void Put(size_t row, std::string_view v) { (*out)[row].emplace(v); }
  // Only string columns are given a StringSink (checked by the caller).
  void Put(size_t, int32_t) {}
  void Put(size_t, int64_t) {}
  void Put(size_t, float) {}
  void Put(size_t, double) {}
  void PutBool(size_t, bool) {}
};

// Decodes `rows` values of the chunk `meta` of `file` (the whole file's
// bytes; data_end: where the footer starts) into sink rows [0, rows).
template <class Sink>
Status ReadColumnChunk(std::string_view file, size_t data_end, const ColumnDesc& col,
                       const ColumnMetaData& meta, int64_t rows, Sink& sink);

extern template Status ReadColumnChunk(std::string_view, size_t, const ColumnDesc&,
                                       const ColumnMetaData&, int64_t, NumberSink<float>&);
extern template Status ReadColumnChunk(std::string_view, size_t, const ColumnDesc&,
                                       const ColumnMetaData&, int64_t, NumberSink<double>&);
extern template Status ReadColumnChunk(std::string_view, size_t, const ColumnDesc&,
                                       const ColumnMetaData&, int64_t, StringSink&);

}  // namespace lote::parquet
