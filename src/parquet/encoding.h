// Decoders of Parquet's value encodings that are not plain copies: the
// RLE/bit-packed hybrid (definition levels, dictionary indices, RLE
// booleans), DELTA_BINARY_PACKED (and the lengths of
// DELTA_LENGTH_BYTE_ARRAY), and BYTE_STREAM_SPLIT.
//
// Every decoder reads only inside the bytes it is given and returns an
// InvalidArgument error when they run out before the values asked for, or
// when a header is impossible (a bit width past 32/64, a block size that is
// not a multiple of 128, ...). None allocates more than the output the
// caller sized.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace lote::parquet {

// Reads the RLE/bit-packed hybrid, `bit_width` bits per value (0..32).
class RleDecoder {
 public:
  RleDecoder(std::string_view data, int bit_width) : data_(data), bit_width_(bit_width) {}
  // Fills out[0, n); an error when the data holds fewer than n values.
  Status Decode(uint32_t* out, size_t n);

 private:
  Status NextRun();

  std::string_view data_;
  size_t pos_ = 0;
  int bit_width_;
  // The current run: `left` values, either repeated `value` or bit-packed
  // from bit `packed_bit` of data_.
  uint64_t left_ = 0;
  bool packed_ = false;
  uint32_t value_ = 0;
  uint64_t packed_bit_ = 0;
};

// Decodes n DELTA_BINARY_PACKED values into out; *consumed receives the
// bytes the encoded block took (DELTA_LENGTH_BYTE_ARRAY's data follows it).
Status DecodeDeltaBinaryPacked(std::string_view data, int64_t* out, size_t n, size_t* consumed);

// Reads an unsigned LEB128 varint at *pos.
Result<uint64_t> ReadUleb128(std::string_view data, size_t* pos);

}  // namespace lote::parquet
