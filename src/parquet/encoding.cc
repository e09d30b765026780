#include "parquet/encoding.h"

#include <cstring>

#include "parquet/fmt.h"

namespace lote::parquet {

namespace {

// `width` (0..64) bits starting at bit `bit` of data, LSB first; the caller
// has checked that they lie inside data.
uint64_t GetBits(std::string_view data, uint64_t bit, int width) {
  if (width == 0) return 0;
  size_t byte = bit / 8;
  int shift = static_cast<int>(bit % 8);
  uint64_t lo = 0;
  std::memcpy(&lo, data.data() + byte, std::min<size_t>(8, data.size() - byte));
  uint64_t v = lo >> shift;
  if (shift + width > 64) {  // the value spills into a ninth byte
    uint64_t hi = static_cast<uint8_t>(data[byte + 8]);
    v |= hi << (64 - shift);
  }
  return width == 64 ? v : v & ((uint64_t{1} << width) - 1);
}

}  // namespace

Result<uint64_t> ReadUleb128(std::string_view data, size_t* pos) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= data.size()) return InvalidArgument("truncated varint");
    auto b = static_cast<uint8_t>(data[(*pos)++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  return InvalidArgument("varint longer than 10 bytes");
}

Status RleDecoder::NextRun() {
  if (pos_ >= data_.size()) return InvalidArgument("RLE/bit-packed data ends before its values");
  LOTE_ASSIGN_OR_RETURN(uint64_t header, ReadUleb128(data_, &pos_));
  if (header & 1) {
    uint64_t groups = header >> 1;
    // The packed bytes must be there for what is read of them; a run that
    // says more groups than bytes are left is cut to what is there (writers
    // may count the padding of the last group).
    uint64_t bytes_left = data_.size() - pos_;
    uint64_t max_values = bit_width_ == 0 ? groups * 8 : bytes_left * 8 / bit_width_;
    if (groups > (uint64_t{1} << 40)) return InvalidArgument("bit-packed run too long");
    packed_ = true;
    packed_bit_ = pos_ * 8;
    left_ = std::min(groups * 8, max_values);
    pos_ += std::min<uint64_t>(bytes_left, groups * bit_width_);
    if (left_ == 0) return InvalidArgument("empty bit-packed run");
  } else {
    left_ = header >> 1;
    if (left_ == 0) return InvalidArgument("RLE run of length 0");
    size_t width_bytes = (bit_width_ + 7) / 8;
    if (data_.size() - pos_ < width_bytes) return InvalidArgument("truncated RLE run value");
    uint32_t v = 0;
    for (size_t i = 0; i < width_bytes; ++i)
      v |= static_cast<uint32_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    pos_ += width_bytes;
    packed_ = false;
    value_ = v;
  }
  return {};
}

Status RleDecoder::Decode(uint32_t* out, size_t n) {
  if (bit_width_ < 0 || bit_width_ > 32)
    return InvalidArgument(Fmt("bit width {} past 32", bit_width_));
  size_t done = 0;
  while (done < n) {
    if (left_ == 0) LOTE_TRY(NextRun());
    size_t take = static_cast<size_t>(std::min<uint64_t>(left_, n - done));
    if (packed_ && bit_width_ == 1 && packed_bit_ % 8 == 0) {
      // Definition levels and booleans: eight values a byte, byte-aligned
      // (a run starts on a byte and holds whole groups of eight).
      const auto* bytes = reinterpret_cast<const uint8_t*>(data_.data()) + packed_bit_ / 8;
      size_t i = 0;
      for (; i + 8 <= take; i += 8) {
        const uint8_t b = *bytes++;
        for (int k = 0; k < 8; ++k) out[done + i + static_cast<size_t>(k)] = (b >> k) & 1U;
      }
      for (; i < take; ++i) {  // the run's (or the request's) tail
        out[done + i] = static_cast<uint32_t>(GetBits(data_, packed_bit_ + i, 1));
      }
      packed_bit_ += take;
    } else if (packed_) {
      // Dictionary indices: one unaligned 8-byte load per value while the
      // load stays inside the data (a value of up to 32 bits at a bit offset
      // of up to 7 fits in it), GetBits for the last few.
      const uint64_t mask = (uint64_t{1} << bit_width_) - 1;
      uint64_t bit = packed_bit_;
      size_t i = 0;
      for (; i < take && bit / 8 + 8 <= data_.size(); ++i, bit += static_cast<uint64_t>(bit_width_)) {
        uint64_t word;
        std::memcpy(&word, data_.data() + bit / 8, 8);
        out[done + i] = static_cast<uint32_t>((word >> (bit % 8)) & mask);
      }
      for (; i < take; ++i, bit += static_cast<uint64_t>(bit_width_)) {
        out[done + i] = static_cast<uint32_t>(GetBits(data_, bit, bit_width_));
      }
      packed_bit_ = bit;
    } else {
      std::fill(out + done, out + done + take, value_);
    }
    left_ -= take;
    done += take;
  }
  return {};
}

Status DecodeDeltaBinaryPacked(std::string_view data, int64_t* out, size_t n, size_t* consumed) {
  size_t pos = 0;
  LOTE_ASSIGN_OR_RETURN(uint64_t block_size, ReadUleb128(data, &pos));
  LOTE_ASSIGN_OR_RETURN(uint64_t miniblocks, ReadUleb128(data, &pos));
  LOTE_ASSIGN_OR_RETURN(uint64_t total, ReadUleb128(data, &pos));
  LOTE_ASSIGN_OR_RETURN(uint64_t first_raw, ReadUleb128(data, &pos));
  if (block_size == 0 || block_size % 128 != 0 || block_size > (1u << 20) || miniblocks == 0 ||
      block_size % miniblocks != 0 || (block_size / miniblocks) % 32 != 0) {
    return InvalidArgument(
        Fmt("DELTA_BINARY_PACKED: impossible block of {} values in {} miniblocks", block_size,
            miniblocks));
  }
  if (total < n) {
    return InvalidArgument(Fmt("DELTA_BINARY_PACKED holds {} values, the page needs {}", total, n));
  }
  auto zigzag = [](uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); };
  uint64_t value = static_cast<uint64_t>(zigzag(first_raw));  // wrapping arithmetic, as writers do
  size_t done = 0;
  if (n > 0) out[done++] = static_cast<int64_t>(value);
  const uint64_t per_miniblock = block_size / miniblocks;
  // Blocks follow as long as values are left of the `total` encoded; the
  // caller needs n of them but the bytes of all are consumed.
  uint64_t remaining = total > 0 ? total - 1 : 0;
  while (remaining > 0) {
    LOTE_ASSIGN_OR_RETURN(uint64_t min_raw, ReadUleb128(data, &pos));
    uint64_t min_delta = static_cast<uint64_t>(zigzag(min_raw));
    if (data.size() - pos < miniblocks)
      return InvalidArgument("DELTA_BINARY_PACKED: truncated bit widths");
    std::string_view widths = data.substr(pos, miniblocks);
    pos += miniblocks;
    for (uint64_t m = 0; m < miniblocks && remaining > 0; ++m) {
      int width = static_cast<uint8_t>(widths[m]);
      if (width > 64)
        return InvalidArgument(Fmt("DELTA_BINARY_PACKED: bit width {} past 64", width));
      uint64_t bytes = per_miniblock * width / 8;
      if (data.size() - pos < bytes)
        return InvalidArgument("DELTA_BINARY_PACKED: data ends inside a miniblock");
      std::string_view mb = data.substr(pos, bytes);
      uint64_t take = std::min(per_miniblock, remaining);
      // Values past the n wanted are only counted, so a header that claims
      // billions of values in a few bytes costs a few steps per block.
      for (uint64_t i = 0; i < take && done < n; ++i) {
        value += min_delta + GetBits(mb, i * width, width);
        out[done++] = static_cast<int64_t>(value);
      }
      remaining -= take;
      pos += bytes;
    }
  }
  *consumed = pos;
  return {};
}

}  // namespace lote::parquet
