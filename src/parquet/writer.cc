#include "parquet/writer.h"

#include <snappy.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <unordered_map>

#include "parquet/fmt.h"

namespace lote::parquet {

namespace {

// The Thrift compact protocol, writing side: enough for the footer and page
// headers. Fields are written in the order given; the short form (a delta
// from the previous id) is used when the delta fits in 1..15.
class ThriftWriter {
 public:
  std::string& out() { return out_; }

  void BeginStruct() { last_.push_back(0); }
  void EndStruct() {
    out_.push_back(0);  // stop
    last_.pop_back();
  }
  void FieldI32(int16_t id, int32_t v) {
    Header(id, 5);
    Varint(ZigZag(v));
  }
  void FieldI64(int16_t id, int64_t v) {
    Header(id, 6);
    Varint(ZigZag(v));
  }
  void FieldString(int16_t id, std::string_view s) {
    Header(id, 8);
    Binary(s);
  }
  // A struct field: BeginStruct is called here; the caller writes its
  // fields and calls EndStruct.
  void FieldStruct(int16_t id) {
    Header(id, 12);
    BeginStruct();
  }
  // A list field's header; the caller writes `size` elements of `type`.
  void FieldList(int16_t id, uint8_t elem_type, size_t size) {
    Header(id, 9);
    if (size < 15) {
      out_.push_back(static_cast<char>((size << 4) | elem_type));
    } else {
      out_.push_back(static_cast<char>(0xF0 | elem_type));
      Varint(size);
    }
  }
  void ElemI32(int32_t v) { Varint(ZigZag(v)); }
  void Binary(std::string_view s) {
    Varint(s.size());
    out_.append(s);
  }
  void Raw(std::string_view s) { out_.append(s); }

  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }

 private:
  static uint64_t ZigZag(int64_t v) {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  }
  void Header(int16_t id, uint8_t type) {
    int16_t delta = static_cast<int16_t>(id - last_.back());
    if (delta > 0 && delta <= 15) {
      out_.push_back(static_cast<char>((delta << 4) | type));
    } else {
      out_.push_back(static_cast<char>(type));
      Varint(ZigZag(id));
    }
    last_.back() = id;
  }

  std::string out_;
  std::vector<int16_t> last_{0};
};

constexpr uint8_t kTypeI32 = 5;
constexpr uint8_t kTypeBinary = 8;
constexpr uint8_t kTypeStruct = 12;

void PutLe32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// The RLE/bit-packed hybrid of `values` at `width` bits: runs of 8 or more
// equal values as RLE runs, the rest bit-packed in groups of 8 (the last
// group padded with zeros, which readers ignore past the count).
void EncodeHybrid(const std::vector<uint32_t>& values, int width, std::string& out) {
  ThriftWriter varint;  // only for its Varint
  auto flush_varint = [&] {
    out += varint.out();
    varint.out().clear();
  };
  std::string packed;
  size_t groups = 0;
  auto flush_packed = [&] {
    if (groups == 0) return;
    varint.Varint((groups << 1) | 1);
    flush_varint();
    out += packed;
    packed.clear();
    groups = 0;
  };
  const size_t n = values.size();
  const int value_bytes = (width + 7) / 8;
  size_t i = 0;
  while (i < n) {
    size_t run = 1;
    while (i + run < n && values[i + run] == values[i]) ++run;
    if (run >= 8) {
      flush_packed();
      varint.Varint(static_cast<uint64_t>(run) << 1);
      flush_varint();
      for (int b = 0; b < value_bytes; ++b) out.push_back(static_cast<char>((values[i] >> (8 * b)) & 0xFF));
      i += run;
      continue;
    }
    // One group of 8, LSB first.
    uint64_t bits = 0;
    int nbits = 0;
    std::string group;
    for (size_t j = 0; j < 8; ++j) {
      uint64_t v = i + j < n ? values[i + j] : 0;
      bits |= v << nbits;
      nbits += width;
      while (nbits >= 8) {
        group.push_back(static_cast<char>(bits & 0xFF));
        bits >>= 8;
        nbits -= 8;
      }
    }
    packed += group;
    ++groups;
    i += 8;
  }
  flush_packed();
}

int BitWidth(size_t max_value) { return std::max(1, static_cast<int>(std::bit_width(max_value))); }

PhysicalType PhysicalOf(WriterType t) {
  switch (t) {
    case WriterType::kInt64: return PhysicalType::kInt64;
    case WriterType::kDouble: return PhysicalType::kDouble;
    case WriterType::kBoolean: return PhysicalType::kBoolean;
    case WriterType::kString: return PhysicalType::kByteArray;
  }
  return PhysicalType::kByteArray;
}

}  // namespace

std::string_view WriterTypeName(WriterType t) {
  switch (t) {
    case WriterType::kInt64: return "INT64";
    case WriterType::kDouble: return "DOUBLE";
    case WriterType::kBoolean: return "BOOLEAN";
    case WriterType::kString: return "STRING";
  }
  return "?";
}

// One column's values of the row group being built. defined[r]: row r has a
// value; the values of the defined rows only, in order.
struct Writer::Buffer {
  std::vector<uint32_t> defined;  // 0/1, as the definition levels are written
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<uint8_t> bools;
  std::string bytes;             // strings, back to back
  std::vector<uint64_t> ends;    // each string's end in bytes

  void Clear() {
    defined.clear();
    ints.clear();
    doubles.clear();
    bools.clear();
    bytes.clear();
    ends.clear();
  }
  std::string_view Str(size_t i) const {
    uint64_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(bytes).substr(begin, ends[i] - begin);
  }
};

Result<std::unique_ptr<Writer>> Writer::Create(std::vector<WriterColumn> columns, WriterOptions options,
                                               ByteSink sink) {
  if (columns.empty()) return InvalidArgument("a Parquet file needs at least one column");
  if (options.codec != Codec::kUncompressed && options.codec != Codec::kSnappy &&
      options.codec != Codec::kZstd) {
    return InvalidArgument(Fmt("the Parquet writer compresses with SNAPPY or ZSTD, not {}",
                               CodecName(static_cast<int32_t>(options.codec))));
  }
  if (options.row_group_rows < 1) return InvalidArgument("row_group_rows must be at least 1");
  std::unique_ptr<Writer> w(new Writer());
  w->columns_ = std::move(columns);
  w->options_ = std::move(options);
  w->sink_ = std::move(sink);
  for (size_t i = 0; i < w->columns_.size(); ++i) w->buffers_.push_back(std::make_unique<Buffer>());
  LOTE_TRY(w->Emit("PAR1"));
  return w;
}

Writer::~Writer() = default;

Status Writer::Emit(std::string_view bytes) {
  if (!failed_) return failed_;
  if (Status st = sink_(bytes); !st) {
    failed_ = st;
    return st;
  }
  offset_ += bytes.size();
  return {};
}

Status Writer::Misuse(std::string msg) {
  Status st = InvalidArgument(std::move(msg));
  if (failed_) failed_ = st;
  return st;
}

void Writer::Null() {
  if (cell_ < buffers_.size()) buffers_[cell_]->defined.push_back(0);
  ++cell_;
}

void Writer::Int64(int64_t v) {
  if (cell_ < buffers_.size() && columns_[cell_].type == WriterType::kInt64) {
    buffers_[cell_]->defined.push_back(1);
    buffers_[cell_]->ints.push_back(v);
  } else if (cell_ < buffers_.size()) {
    if (failed_) failed_ = InvalidArgument(Fmt("column '{}' is {}, given an INT64", columns_[cell_].name,
                                               WriterTypeName(columns_[cell_].type)));
  }
  ++cell_;
}

void Writer::Double(double v) {
  if (cell_ < buffers_.size() && columns_[cell_].type == WriterType::kDouble) {
    buffers_[cell_]->defined.push_back(1);
    buffers_[cell_]->doubles.push_back(v);
  } else if (cell_ < buffers_.size()) {
    if (failed_) failed_ = InvalidArgument(Fmt("column '{}' is {}, given a DOUBLE", columns_[cell_].name,
                                               WriterTypeName(columns_[cell_].type)));
  }
  ++cell_;
}

void Writer::Bool(bool v) {
  if (cell_ < buffers_.size() && columns_[cell_].type == WriterType::kBoolean) {
    buffers_[cell_]->defined.push_back(1);
    buffers_[cell_]->bools.push_back(v ? 1 : 0);
  } else if (cell_ < buffers_.size()) {
    if (failed_) failed_ = InvalidArgument(Fmt("column '{}' is {}, given a BOOLEAN", columns_[cell_].name,
                                               WriterTypeName(columns_[cell_].type)));
  }
  ++cell_;
}

void Writer::String(std::string_view v) {
  if (cell_ < buffers_.size() && columns_[cell_].type == WriterType::kString) {
    Buffer& b = *buffers_[cell_];
    b.defined.push_back(1);
    b.bytes.append(v);
    b.ends.push_back(b.bytes.size());
  } else if (cell_ < buffers_.size()) {
    if (failed_) failed_ = InvalidArgument(Fmt("column '{}' is {}, given a STRING", columns_[cell_].name,
                                               WriterTypeName(columns_[cell_].type)));
  }
  ++cell_;
}

Status Writer::EndRow() {
  if (finished_) return Misuse("the Parquet writer is finished");
  if (!failed_) return failed_;
  if (cell_ != columns_.size()) {
    return Misuse(Fmt("row {} has {} values for {} columns", rows_, cell_, columns_.size()));
  }
  cell_ = 0;
  ++rows_;
  if (++group_rows_ >= options_.row_group_rows) return FlushRowGroup();
  return {};
}

namespace {

// One column chunk as it is built: its pages and what the footer says of it.
struct Chunk {
  std::string bytes;
  int64_t uncompressed = 0;
  int64_t dictionary_at = -1;  // offset in bytes of the dictionary page
  int64_t data_at = 0;
  bool dictionary = false;
};

Result<std::string> Compress(Codec codec, int level, const std::string& raw) {
  if (codec == Codec::kUncompressed) return raw;
  std::string out;
  if (codec == Codec::kSnappy) {
    snappy::Compress(raw.data(), raw.size(), &out);
    return out;
  }
  out.resize(ZSTD_compressBound(raw.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), level);
  if (ZSTD_isError(n)) return Internal(Fmt("ZSTD compression failed: {}", ZSTD_getErrorName(n)));
  out.resize(n);
  return out;
}

// Appends a page (header + compressed body) to the chunk.
Status AddPage(Chunk& chunk, const WriterOptions& o, int32_t page_type, const std::string& raw,
               int32_t num_values, int32_t encoding) {
  if (raw.size() > static_cast<size_t>(INT32_MAX)) return InvalidArgument("a Parquet page would pass 2 GiB");
  LOTE_ASSIGN_OR_RETURN(std::string body, Compress(o.codec, o.zstd_level, raw));
  ThriftWriter t;
  t.BeginStruct();
  t.FieldI32(1, page_type);
  t.FieldI32(2, static_cast<int32_t>(raw.size()));
  t.FieldI32(3, static_cast<int32_t>(body.size()));
  if (page_type == static_cast<int32_t>(PageType::kDataPage)) {
    t.FieldStruct(5);
    t.FieldI32(1, num_values);
    t.FieldI32(2, encoding);
    t.FieldI32(3, static_cast<int32_t>(Encoding::kRle));
    t.FieldI32(4, static_cast<int32_t>(Encoding::kRle));
    t.EndStruct();
  } else {
    t.FieldStruct(7);
    t.FieldI32(1, num_values);
    t.FieldI32(2, encoding);
    t.EndStruct();
  }
  t.EndStruct();
  chunk.uncompressed += static_cast<int64_t>(t.out().size() + raw.size());
  chunk.bytes += t.out();
  chunk.bytes += body;
  return {};
}

}  // namespace

Status Writer::FlushRowGroup() {
  if (group_rows_ == 0) return {};
  const int64_t rows = group_rows_;
  const uint64_t group_start = offset_;
  std::vector<Chunk> chunks(columns_.size());
  int64_t total_uncompressed = 0, total_compressed = 0;
  ThriftWriter rg;
  rg.BeginStruct();
  rg.FieldList(1, kTypeStruct, columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) {
    const Buffer& b = *buffers_[c];
    const WriterType type = columns_[c].type;
    Chunk& chunk = chunks[c];

    // A string column with few distinct values gets a dictionary.
    std::vector<uint32_t> index;
    if (type == WriterType::kString && !b.ends.empty()) {
      constexpr size_t kMaxDictBytes = size_t{1} << 20;
      std::unordered_map<std::string_view, uint32_t> ids;
      std::string dict;
      std::vector<uint32_t> idx;
      idx.reserve(b.ends.size());
      bool use = true;
      for (size_t i = 0; i < b.ends.size() && use; ++i) {
        std::string_view s = b.Str(i);
        auto [it, added] = ids.try_emplace(s, static_cast<uint32_t>(ids.size()));
        if (added) {
          PutLe32(dict, static_cast<uint32_t>(s.size()));
          dict.append(s);
          use = dict.size() <= kMaxDictBytes && ids.size() <= b.ends.size() / 2 + 1;
        }
        idx.push_back(it->second);
      }
      if (use) {
        chunk.dictionary = true;
        chunk.dictionary_at = static_cast<int64_t>(offset_ + chunk.bytes.size());
        LOTE_TRY(AddPage(chunk, options_, static_cast<int32_t>(PageType::kDictionaryPage), dict,
                         static_cast<int32_t>(ids.size()), static_cast<int32_t>(Encoding::kPlain)));
        index = std::move(idx);
      }
    }
    const int width = chunk.dictionary ? BitWidth(b.ends.empty() ? 0 : *std::max_element(index.begin(), index.end())) : 0;

    // Data pages of about page_bytes of values each.
    chunk.data_at = static_cast<int64_t>(offset_ + chunk.bytes.size());
    size_t row = 0, value = 0;
    while (row < static_cast<size_t>(rows)) {
      const size_t first_row = row, first_value = value;
      size_t bytes = 0;
      while (row < static_cast<size_t>(rows) && (bytes < options_.page_bytes || row == first_row)) {
        if (b.defined[row]) {
          switch (type) {
            case WriterType::kInt64:
            case WriterType::kDouble: bytes += 8; break;
            case WriterType::kBoolean: bytes += 1; break;
            case WriterType::kString: bytes += chunk.dictionary ? 2 : 4 + b.Str(value).size(); break;
          }
          ++value;
        }
        ++row;
      }
      std::string raw;
      std::vector<uint32_t> levels(b.defined.begin() + static_cast<long>(first_row),
                                   b.defined.begin() + static_cast<long>(row));
      std::string encoded_levels;
      EncodeHybrid(levels, 1, encoded_levels);
      PutLe32(raw, static_cast<uint32_t>(encoded_levels.size()));
      raw += encoded_levels;
      int32_t encoding = static_cast<int32_t>(Encoding::kPlain);
      if (chunk.dictionary) {
        encoding = static_cast<int32_t>(Encoding::kRleDictionary);
        raw.push_back(static_cast<char>(width));
        std::vector<uint32_t> ids(index.begin() + static_cast<long>(first_value),
                                  index.begin() + static_cast<long>(value));
        EncodeHybrid(ids, width, raw);
      } else {
        for (size_t v = first_value; v < value; ++v) {
          switch (type) {
            case WriterType::kInt64: {
              uint64_t u = static_cast<uint64_t>(b.ints[v]);
              for (int k = 0; k < 8; ++k) raw.push_back(static_cast<char>((u >> (8 * k)) & 0xFF));
              break;
            }
            case WriterType::kDouble: {
              uint64_t u = std::bit_cast<uint64_t>(b.doubles[v]);
              for (int k = 0; k < 8; ++k) raw.push_back(static_cast<char>((u >> (8 * k)) & 0xFF));
              break;
            }
            case WriterType::kBoolean: break;  // bit-packed below
            case WriterType::kString: {
              std::string_view s = b.Str(v);
              PutLe32(raw, static_cast<uint32_t>(s.size()));
              raw.append(s);
              break;
            }
          }
        }
        if (type == WriterType::kBoolean) {
          for (size_t v = first_value; v < value; v += 8) {
            uint8_t byte = 0;
            for (size_t k = 0; k < 8 && v + k < value; ++k) byte |= static_cast<uint8_t>(b.bools[v + k] << k);
            raw.push_back(static_cast<char>(byte));
          }
        }
      }
      LOTE_TRY(AddPage(chunk, options_, static_cast<int32_t>(PageType::kDataPage), raw,
                       static_cast<int32_t>(row - first_row), encoding));
    }

    // The chunk's metadata in the footer.
    const uint64_t chunk_start = offset_;
    rg.BeginStruct();
    rg.FieldI64(2, static_cast<int64_t>(chunk_start));
    rg.FieldStruct(3);
    rg.FieldI32(1, static_cast<int32_t>(PhysicalOf(type)));
    if (chunk.dictionary) {
      rg.FieldList(2, kTypeI32, 3);
      rg.ElemI32(static_cast<int32_t>(Encoding::kPlain));
      rg.ElemI32(static_cast<int32_t>(Encoding::kRle));
      rg.ElemI32(static_cast<int32_t>(Encoding::kRleDictionary));
    } else {
      rg.FieldList(2, kTypeI32, 2);
      rg.ElemI32(static_cast<int32_t>(Encoding::kPlain));
      rg.ElemI32(static_cast<int32_t>(Encoding::kRle));
    }
    rg.FieldList(3, kTypeBinary, 1);
    rg.Binary(columns_[c].name);
    rg.FieldI32(4, static_cast<int32_t>(options_.codec));
    rg.FieldI64(5, rows);
    rg.FieldI64(6, chunk.uncompressed);
    rg.FieldI64(7, static_cast<int64_t>(chunk.bytes.size()));
    rg.FieldI64(9, chunk.data_at);
    if (chunk.dictionary) rg.FieldI64(11, chunk.dictionary_at);
    rg.EndStruct();
    rg.EndStruct();
    total_uncompressed += chunk.uncompressed;
    total_compressed += static_cast<int64_t>(chunk.bytes.size());
    LOTE_TRY(Emit(chunk.bytes));
    // data_at / dictionary_at were computed from offset_ before this chunk's
    // bytes: they stay right because nothing else was emitted in between.
  }
  rg.FieldI64(2, total_uncompressed);
  rg.FieldI64(3, rows);
  rg.FieldI64(5, static_cast<int64_t>(group_start));
  rg.FieldI64(6, total_compressed);
  rg.EndStruct();
  row_groups_ += rg.out();
  ++num_row_groups_;
  for (auto& b : buffers_) b->Clear();
  group_rows_ = 0;
  return {};
}

Status Writer::Finish() {
  if (finished_) return Misuse("the Parquet writer is finished");
  if (!failed_) return failed_;
  if (cell_ != 0) return Misuse(Fmt("the last row has {} values for {} columns", cell_, columns_.size()));
  LOTE_TRY(FlushRowGroup());
  finished_ = true;
  ThriftWriter t;
  t.BeginStruct();
  t.FieldI32(1, 1);
  t.FieldList(2, kTypeStruct, columns_.size() + 1);
  t.BeginStruct();
  t.FieldString(4, "schema");
  t.FieldI32(5, static_cast<int32_t>(columns_.size()));
  t.EndStruct();
  for (const WriterColumn& col : columns_) {
    t.BeginStruct();
    t.FieldI32(1, static_cast<int32_t>(PhysicalOf(col.type)));
    t.FieldI32(3, static_cast<int32_t>(Repetition::kOptional));
    t.FieldString(4, col.name);
    if (col.type == WriterType::kString) {
      t.FieldI32(6, kConvertedUtf8);
      t.FieldStruct(10);  // LogicalType
      t.FieldStruct(1);   // STRING
      t.EndStruct();
      t.EndStruct();
    }
    t.EndStruct();
  }
  t.FieldI64(3, rows_);
  t.FieldList(4, kTypeStruct, static_cast<size_t>(num_row_groups_));
  t.Raw(row_groups_);
  t.FieldString(6, options_.created_by);
  t.EndStruct();
  std::string tail = std::move(t.out());
  const size_t footer = tail.size();
  PutLe32(tail, static_cast<uint32_t>(footer));
  tail += "PAR1";
  return Emit(tail);
}

}  // namespace lote::parquet
