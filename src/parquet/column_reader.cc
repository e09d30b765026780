#include "parquet/column_reader.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/fmt.h"

namespace lote::parquet {

namespace {

struct Bool {
  bool v;
};

template <class V>
constexpr bool kFixedWidth = std::is_same_v<V, int32_t> || std::is_same_v<V, int64_t> ||
                             std::is_same_v<V, float> || std::is_same_v<V, double>;

template <class Sink>
void Deliver(Sink& sink, size_t row, const Bool& v) {
  sink.PutBool(row, v.v);
}
template <class Sink, class V>
void Deliver(Sink& sink, size_t row, const V& v) {
  sink.Put(row, v);
}

// A decompressed page's bytes: one buffer per thread, kept from page to page
// and chunk to chunk, never zeroed (the codec writes every byte), so that a
// page costs no allocation, no zeroing and no fresh pages from the kernel.
// A page's values are consumed before the next page is read into it. A
// buffer over kKeptPageBytes (a rare huge page) is dropped at the next
// ordinary page, so an idle worker does not hold it.
inline constexpr size_t kKeptPageBytes = size_t{16} << 20;

class PageBuffer {
 public:
  char* Get(size_t size) {
    if (size > capacity_ || (capacity_ > kKeptPageBytes && size <= kKeptPageBytes)) {
      data_ = std::make_unique_for_overwrite<char[]>(size);
      capacity_ = size;
    }
    return data_.get();
  }

 private:
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
};

thread_local PageBuffer t_page_buffer;

uint32_t LoadU32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// n PLAIN values of type V from data into out.
template <class V>
Status DecodePlain(std::string_view data, size_t n, const ColumnDesc& col, std::vector<V>& out) {
  if constexpr (kFixedWidth<V>) {
    if (data.size() / sizeof(V) < n) {
      return InvalidArgument(
          Fmt("PLAIN data of {} bytes holds fewer than its {} values", data.size(), n));
    }
    out.resize(n);
    if (n) std::memcpy(out.data(), data.data(), n * sizeof(V));
  } else if constexpr (std::is_same_v<V, Bool>) {
    if ((data.size() * 8) < n) {
      return InvalidArgument(
          Fmt("PLAIN booleans of {} bytes hold fewer than {} values", data.size(), n));
    }
    out.resize(n);
    for (size_t i = 0; i < n; ++i) out[i].v = (static_cast<uint8_t>(data[i / 8]) >> (i % 8)) & 1;
  } else if (col.physical == static_cast<int32_t>(PhysicalType::kFixedLenByteArray)) {
    auto width = static_cast<size_t>(col.type_length);
    if (data.size() / width < n) {
      return InvalidArgument(
          Fmt("PLAIN data of {} bytes holds fewer than its {} values", data.size(), n));
    }
    out.resize(n);
    for (size_t i = 0; i < n; ++i) out[i] = data.substr(i * width, width);
  } else {  // BYTE_ARRAY: a 4-byte length before each value
    if (data.size() / 4 < n) {
      return InvalidArgument(
          Fmt("PLAIN strings of {} bytes hold fewer than {} values", data.size(), n));
    }
    out.resize(n);
    size_t pos = 0;
    for (size_t i = 0; i < n; ++i) {
      if (data.size() - pos < 4)
        return InvalidArgument(Fmt("PLAIN string {} of {}: truncated length", i, n));
      uint32_t len = LoadU32(data.data() + pos);
      pos += 4;
      if (data.size() - pos < len) {
        return InvalidArgument(
            Fmt("PLAIN string {} of {}: {} bytes past the page's end", i, n, len));
      }
      out[i] = data.substr(pos, len);
      pos += len;
    }
  }
  return {};
}

template <class V>
Status DecodeByteStreamSplit(std::string_view data, size_t n, const ColumnDesc& col,
                             std::vector<V>& out) {
  size_t width = 0;
  if constexpr (kFixedWidth<V>) {
    width = sizeof(V);
  } else if constexpr (std::is_same_v<V, std::string_view>) {
    if (col.physical != static_cast<int32_t>(PhysicalType::kFixedLenByteArray)) {
      return InvalidArgument("BYTE_STREAM_SPLIT on a BYTE_ARRAY column");
    }
    width = static_cast<size_t>(col.type_length);
  } else {
    return InvalidArgument("BYTE_STREAM_SPLIT on a BOOLEAN column");
  }
  if (data.size() % width != 0 || data.size() / width < n) {
    return InvalidArgument(
        Fmt("BYTE_STREAM_SPLIT data of {} bytes does not hold {} values of {} bytes", data.size(),
            n, width));
  }
  const size_t stride = data.size() / width;
  out.resize(n);
  if constexpr (kFixedWidth<V>) {
    for (size_t i = 0; i < n; ++i) {
      char bytes[sizeof(V)];
      for (size_t b = 0; b < sizeof(V); ++b) bytes[b] = data[b * stride + i];
      std::memcpy(&out[i], bytes, sizeof(V));
    }
    return {};
  } else {
    return InvalidArgument("BYTE_STREAM_SPLIT on FIXED_LEN_BYTE_ARRAY is not supported");
  }
}

template <class V>
Status DecodeDelta(std::string_view data, size_t n, std::vector<V>& out) {
  if constexpr (std::is_same_v<V, int32_t> || std::is_same_v<V, int64_t>) {
    std::vector<int64_t> tmp(n);
    size_t consumed = 0;
    LOTE_TRY(DecodeDeltaBinaryPacked(data, tmp.data(), n, &consumed));
    out.resize(n);
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<V>(tmp[i]);  // INT32 deltas wrap at 32 bits
    return {};
  } else {
    return InvalidArgument("DELTA_BINARY_PACKED on a column that is not INT32 or INT64");
  }
}

template <class V>
Status DecodeDeltaLength(std::string_view data, size_t n, const ColumnDesc& col,
                         std::vector<V>& out) {
  if constexpr (std::is_same_v<V, std::string_view>) {
    if (col.physical != static_cast<int32_t>(PhysicalType::kByteArray)) {
      return InvalidArgument("DELTA_LENGTH_BYTE_ARRAY on a column that is not BYTE_ARRAY");
    }
    std::vector<int64_t> lengths(n);
    size_t pos = 0;
    LOTE_TRY(DecodeDeltaBinaryPacked(data, lengths.data(), n, &pos));
    out.resize(n);
    for (size_t i = 0; i < n; ++i) {
      if (lengths[i] < 0 || static_cast<uint64_t>(lengths[i]) > data.size() - pos) {
        return InvalidArgument(
            Fmt("DELTA_LENGTH_BYTE_ARRAY string {} of {}: length {} past the page's end", i, n,
                lengths[i]));
      }
      out[i] = data.substr(pos, static_cast<size_t>(lengths[i]));
      pos += static_cast<size_t>(lengths[i]);
    }
    return {};
  } else {
    return InvalidArgument("DELTA_LENGTH_BYTE_ARRAY on a column that is not BYTE_ARRAY");
  }
}

// RLE-encoded booleans: a 4-byte length, then the hybrid at bit width 1.
template <class V>
Status DecodeRleBooleans(std::string_view data, size_t n, std::vector<V>& out) {
  if constexpr (std::is_same_v<V, Bool>) {
    if (data.size() < 4) return InvalidArgument("RLE booleans without their length");
    uint32_t len = LoadU32(data.data());
    if (len > data.size() - 4)
      return InvalidArgument(Fmt("RLE booleans of {} bytes past the page's end", len));
    std::vector<uint32_t> bits(n);
    RleDecoder dec(data.substr(4, len), 1);
    LOTE_TRY(dec.Decode(bits.data(), n));
    out.resize(n);
    for (size_t i = 0; i < n; ++i) out[i].v = bits[i] != 0;
    return {};
  } else {
    return InvalidArgument("RLE values on a column that is not BOOLEAN");
  }
}

template <class V>
Status DecodeDictionaryIndices(std::string_view data, size_t n, const std::vector<V>& dict,
                               bool have_dict, std::vector<V>& out) {
  if (!have_dict)
    return InvalidArgument("dictionary-encoded page without a dictionary page before it");
  if (data.empty()) {
    if (n == 0) return {};
    return InvalidArgument("dictionary indices without their bit width");
  }
  int width = static_cast<uint8_t>(data[0]);
  if (width > 32) return InvalidArgument(Fmt("dictionary index bit width {} past 32", width));
  std::vector<uint32_t> idx(n);
  RleDecoder dec(data.substr(1), width);
  LOTE_TRY(dec.Decode(idx.data(), n));
  out.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (idx[i] >= dict.size()) {
      return InvalidArgument(
          Fmt("dictionary index {} past the dictionary's {} values", idx[i], dict.size()));
    }
    out[i] = dict[idx[i]];
  }
  return {};
}

template <class V>
Status DecodeValues(int32_t encoding, std::string_view data, size_t n, const ColumnDesc& col,
                    const std::vector<V>& dict, bool have_dict, std::vector<V>& out) {
  switch (static_cast<Encoding>(encoding)) {
    case Encoding::kPlain: return DecodePlain(data, n, col, out);
    case Encoding::kPlainDictionary:
    case Encoding::kRleDictionary: return DecodeDictionaryIndices(data, n, dict, have_dict, out);
    case Encoding::kRle: return DecodeRleBooleans(data, n, out);
    case Encoding::kDeltaBinaryPacked: return DecodeDelta(data, n, out);
    case Encoding::kDeltaLengthByteArray: return DecodeDeltaLength(data, n, col, out);
    case Encoding::kByteStreamSplit: return DecodeByteStreamSplit(data, n, col, out);
    default: return InvalidArgument(Fmt("encoding {} is not supported", EncodingName(encoding)));
  }
}

// Definition levels of a flat optional column: 0 (null) or 1 (a value).
// When every value is present (*non_null == n), defs is left as it is: the
// caller reads it only when some are null.
Status DecodeDefinitionLevels(std::string_view data, size_t n, std::vector<uint32_t>& defs,
                              size_t* non_null) {
  // The common case, a column without nulls: one RLE run of n ones or more.
  size_t pos = 0;
  if (auto header = ReadUleb128(data, &pos);
      header && (*header & 1) == 0 && (*header >> 1) >= n && pos < data.size() && data[pos] == 1) {
    *non_null = n;
    return {};
  }
  defs.resize(n);
  RleDecoder dec(data, 1);
  LOTE_TRY(InContext(dec.Decode(defs.data(), n), "definition levels"));
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    // An RLE run's value is a whole byte: one past 1 would count as neither
    // null nor value.
    if (defs[i] > 1)
      return InvalidArgument(Fmt("definition level {} past the column's maximum of 1", defs[i]));
    count += defs[i];
  }
  *non_null = count;
  return {};
}

template <class V, class Sink>
class ChunkReader {
 public:
  ChunkReader(const ColumnDesc& col, const ColumnMetaData& meta, Sink& sink)
      : col_(col), meta_(meta), sink_(sink) {}

  Status Read(std::string_view chunk, int64_t rows) {
    size_t pos = 0;
    int page = 0;
    while (read_ < rows) {
      if (pos >= chunk.size()) {
        return InvalidArgument(Fmt("column chunk ends after {} of its {} rows", read_, rows));
      }
      size_t header_size = 0;
      auto header = ParsePageHeader(chunk.substr(pos), &header_size);
      if (!header) return header.error().WithContext(Fmt("page {} at chunk byte {}", page, pos));
      Status s = ReadPage(*header, chunk.substr(pos + header_size), rows);
      if (!s) return s.error().WithContext(Fmt("page {} at chunk byte {}", page, pos));
      pos += header_size + static_cast<size_t>(header->compressed_page_size);
      ++page;
    }
    return {};
  }

 private:
  // body: the chunk's bytes after the page header (the page and the rest).
  Status ReadPage(const PageHeader& h, std::string_view body, int64_t rows) {
    auto compressed = static_cast<size_t>(h.compressed_page_size);
    auto uncompressed = static_cast<size_t>(h.uncompressed_page_size);
    if (compressed > body.size()) {
      return InvalidArgument(Fmt("page of {} bytes past the column chunk's end ({} bytes left)",
                                 compressed, body.size()));
    }
    if (uncompressed > kMaxPageBytes) {
      return InvalidArgument(Fmt("page of {} bytes uncompressed, more than the {} allowed",
                                 uncompressed, kMaxPageBytes));
    }
    std::string_view page = body.substr(0, compressed);
    switch (static_cast<PageType>(h.type)) {
      case PageType::kDictionaryPage: return ReadDictionaryPage(h, page);
      case PageType::kDataPage: return ReadDataPageV1(h, page, rows);
      case PageType::kDataPageV2: return ReadDataPageV2(h, page, rows);
      case PageType::kIndexPage: return {};
      default: return InvalidArgument(Fmt("unknown page type {}", h.type));
    }
  }

  // The page's bytes decompressed (or the page itself when uncompressed).
  Result<std::string_view> Inflate(std::string_view in, size_t size, std::string& buffer) {
    if (meta_.codec == static_cast<int32_t>(Codec::kUncompressed)) {
      if (in.size() != size) {
        return InvalidArgument(
            Fmt("uncompressed page of {} bytes, the page header says {}", in.size(), size));
      }
      return in;
    }
    buffer.resize(size);
    LOTE_TRY(Decompress(meta_.codec, in, buffer.data(), size));
    return std::string_view(buffer);
  }

  // A data page's bytes decompressed into the thread's page buffer (or the
  // page itself when uncompressed); valid until the next page is read.
  Result<std::string_view> InflatePage(std::string_view in, size_t size) {
    if (meta_.codec == static_cast<int32_t>(Codec::kUncompressed)) {
      if (in.size() != size) {
        return InvalidArgument(
            Fmt("uncompressed page of {} bytes, the page header says {}", in.size(), size));
      }
      return in;
    }
    char* out = t_page_buffer.Get(size);
    LOTE_TRY(Decompress(meta_.codec, in, out, size));
    return std::string_view(out, size);
  }

  Status ReadDictionaryPage(const PageHeader& h, std::string_view page) {
    if (!h.dictionary_page_header) return InvalidArgument("dictionary page without its header");
    if (have_dict_) return InvalidArgument("a second dictionary page in one column chunk");
    const DictionaryPageHeader& d = *h.dictionary_page_header;
    if (d.encoding != static_cast<int32_t>(Encoding::kPlain) &&
        d.encoding != static_cast<int32_t>(Encoding::kPlainDictionary)) {
      return InvalidArgument(Fmt("dictionary page in encoding {}", EncodingName(d.encoding)));
    }
    if (d.num_values < 0) return InvalidArgument("dictionary page with a negative value count");
    // The dictionary's strings point into dict_buffer_, kept for the chunk.
    LOTE_ASSIGN_OR_RETURN(
        std::string_view data,
        Inflate(page, static_cast<size_t>(h.uncompressed_page_size), dict_buffer_));
    if (data.data() != dict_buffer_.data()) dict_buffer_.assign(data);
    LOTE_TRY(InContext(
        DecodePlain(std::string_view(dict_buffer_), static_cast<size_t>(d.num_values), col_, dict_),
        "dictionary"));
    have_dict_ = true;
    return {};
  }

  Result<size_t> CheckValueCount(int32_t num_values, int64_t rows) {
    if (num_values < 0 || num_values > rows - read_) {
      return InvalidArgument(Fmt("data page of {} values where {} rows are left in the row group",
                                 num_values, rows - read_));
    }
    return static_cast<size_t>(num_values);
  }

  Status ReadDataPageV1(const PageHeader& h, std::string_view page, int64_t rows) {
    if (!h.data_page_header) return InvalidArgument("data page without its header");
    const DataPageHeader& d = *h.data_page_header;
    LOTE_ASSIGN_OR_RETURN(size_t n, CheckValueCount(d.num_values, rows));
    LOTE_ASSIGN_OR_RETURN(
        std::string_view data,
        InflatePage(page, static_cast<size_t>(h.uncompressed_page_size)));
    size_t non_null = n;
    if (col_.optional) {
      if (d.definition_level_encoding != static_cast<int32_t>(Encoding::kRle)) {
        return InvalidArgument(Fmt("definition levels in encoding {} (only RLE is supported)",
                                   EncodingName(d.definition_level_encoding)));
      }
      if (data.size() < 4) return InvalidArgument("definition levels without their length");
      uint32_t len = LoadU32(data.data());
      if (len > data.size() - 4) {
        return InvalidArgument(Fmt("definition levels of {} bytes past the page's end", len));
      }
      LOTE_TRY(DecodeDefinitionLevels(data.substr(4, len), n, defs_, &non_null));
      data.remove_prefix(4 + len);
    }
    return Emit(d.encoding, data, n, non_null);
  }

  Status ReadDataPageV2(const PageHeader& h, std::string_view page, int64_t rows) {
    if (!h.data_page_header_v2) return InvalidArgument("data page v2 without its header");
    const DataPageHeaderV2& d = *h.data_page_header_v2;
    LOTE_ASSIGN_OR_RETURN(size_t n, CheckValueCount(d.num_values, rows));
    if (d.repetition_levels_byte_length != 0) {
      return InvalidArgument("repetition levels in a flat column");
    }
    if (d.definition_levels_byte_length < 0 ||
        static_cast<size_t>(d.definition_levels_byte_length) > page.size() ||
        d.definition_levels_byte_length > h.uncompressed_page_size) {
      return InvalidArgument(Fmt("definition levels of {} bytes past the page's end",
                                 d.definition_levels_byte_length));
    }
    auto levels = static_cast<size_t>(d.definition_levels_byte_length);
    size_t non_null = n;
    if (col_.optional) {
      LOTE_TRY(DecodeDefinitionLevels(page.substr(0, levels), n, defs_, &non_null));
    } else if (levels != 0) {
      return InvalidArgument("definition levels in a required column");
    }
    // Only the values are compressed in a v2 page.
    std::string_view values = page.substr(levels);
    size_t values_size = static_cast<size_t>(h.uncompressed_page_size) - levels;
    std::string_view data;
    if (d.is_compressed) {
      LOTE_ASSIGN_OR_RETURN(data, InflatePage(values, values_size));
    } else {
      if (values.size() != values_size) {
        return InvalidArgument(Fmt("uncompressed values of {} bytes, the page header says {}",
                                   values.size(), values_size));
      }
      data = values;
    }
    return Emit(d.encoding, data, n, non_null);
  }

  // Decodes the page's non-null values and hands them and the nulls to the sink.
  Status Emit(int32_t encoding, std::string_view data, size_t n, size_t non_null) {
    if constexpr (kFixedWidth<V>) {
      if (encoding == static_cast<int32_t>(Encoding::kPlain)) return EmitPlain(data, n, non_null);
    }
    LOTE_TRY(InContext(DecodeValues(encoding, data, non_null, col_, dict_, have_dict_, values_),
                       Fmt("values ({})", EncodingName(encoding))));
    auto base = static_cast<size_t>(read_);
    if (col_.optional && non_null < n) {
      size_t k = 0;
      for (size_t i = 0; i < n; ++i) {
        if (defs_[i]) {
          Deliver(sink_, base + i, values_[k++]);
        } else {
          sink_.Null(base + i);
        }
      }
    } else {
      for (size_t i = 0; i < n; ++i) Deliver(sink_, base + i, values_[i]);
    }
    read_ += static_cast<int64_t>(n);
    return {};
  }

  // PLAIN fixed-width values handed to the sink straight from the page's
  // bytes, without copying them into values_ first.
  Status EmitPlain(std::string_view data, size_t n, size_t non_null) {
    if (data.size() / sizeof(V) < non_null) {
      // The message DecodePlain gives, in Emit's context.
      return InContext(InvalidArgument(Fmt("PLAIN data of {} bytes holds fewer than its {} values",
                                           data.size(), non_null)),
                       Fmt("values ({})", EncodingName(static_cast<int32_t>(Encoding::kPlain))));
    }
    const char* p = data.data();
    auto base = static_cast<size_t>(read_);
    auto next = [&p] {
      V v;
      std::memcpy(&v, p, sizeof(V));
      p += sizeof(V);
      return v;
    };
    if (col_.optional && non_null < n) {
      for (size_t i = 0; i < n; ++i) {
        if (defs_[i]) {
          Deliver(sink_, base + i, next());
        } else {
          sink_.Null(base + i);
        }
      }
    } else {
      for (size_t i = 0; i < n; ++i) Deliver(sink_, base + i, next());
    }
    read_ += static_cast<int64_t>(n);
    return {};
  }

  const ColumnDesc& col_;
  const ColumnMetaData& meta_;
  Sink& sink_;
  int64_t read_ = 0;
  bool have_dict_ = false;
  std::vector<V> dict_;
  std::string dict_buffer_;
  std::vector<uint32_t> defs_;
  std::vector<V> values_;
};

}  // namespace

template <class Sink>
Status ReadColumnChunk(std::string_view file, size_t data_end, const ColumnDesc& col,
                       const ColumnMetaData& meta, int64_t rows, Sink& sink) {
  // The chunk starts at its dictionary page when it has one.
  int64_t start = meta.data_page_offset;
  if (meta.dictionary_page_offset && *meta.dictionary_page_offset > 0 &&
      *meta.dictionary_page_offset < start) {
    start = *meta.dictionary_page_offset;
  }
  int64_t size = meta.total_compressed_size;
  if (start < 4 || size < 0 || static_cast<uint64_t>(start) > data_end ||
      static_cast<uint64_t>(size) > data_end - static_cast<uint64_t>(start)) {
    return InvalidArgument(Fmt("column chunk at bytes {}..{} past the end of the data (byte {})",
                               start, start + size, data_end));
  }
  std::string_view chunk = file.substr(static_cast<size_t>(start), static_cast<size_t>(size));
  switch (static_cast<PhysicalType>(col.physical)) {
    case PhysicalType::kBoolean: return ChunkReader<Bool, Sink>(col, meta, sink).Read(chunk, rows);
    case PhysicalType::kInt32: return ChunkReader<int32_t, Sink>(col, meta, sink).Read(chunk, rows);
    case PhysicalType::kInt64: return ChunkReader<int64_t, Sink>(col, meta, sink).Read(chunk, rows);
    case PhysicalType::kFloat: return ChunkReader<float, Sink>(col, meta, sink).Read(chunk, rows);
    case PhysicalType::kDouble: return ChunkReader<double, Sink>(col, meta, sink).Read(chunk, rows);
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray:
      return ChunkReader<std::string_view, Sink>(col, meta, sink).Read(chunk, rows);
    default:
      return InvalidArgument(
          Fmt("physical type {} is not supported", PhysicalTypeName(col.physical)));
  }
}

template Status ReadColumnChunk(std::string_view, size_t, const ColumnDesc&, const ColumnMetaData&,
                                int64_t, NumberSink<float>&);
template Status ReadColumnChunk(std::string_view, size_t, const ColumnDesc&, const ColumnMetaData&,
                                int64_t, NumberSink<double>&);
template Status ReadColumnChunk(std::string_view, size_t, const ColumnDesc&, const ColumnMetaData&,
                                int64_t, StringSink&);

}  // namespace lote::parquet
