#include "parquet/parquet_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "common/unique_fd.h"
#include "parquet/fmt.h"

namespace lote::parquet {

namespace {

constexpr std::string_view kMagic = "PAR1";
constexpr std::string_view kEncryptedMagic = "PARE";
// Row counts travel as int32 in page headers; a row group claiming more
// rows than that is not one lote can size a matrix for.
constexpr int64_t kMaxRowGroupRows = INT32_MAX;

std::string Printable(std::string_view bytes) {
  std::string s;
  for (char c : bytes) {
    auto u = static_cast<unsigned char>(c);
    static constexpr char kHex[] = "0123456789abcdef";
    if (u >= 0x20 && u < 0x7f) {
      s += c;
    } else {
      s += "\\x";
      s += kHex[u >> 4];
      s += kHex[u & 15];
    }
  }
  return s;
}

Result<ColumnInfo> DescribeColumn(const SchemaElement& e, ColumnDesc& desc) {
  ColumnInfo c;
  c.name = e.name;
  c.nullable = e.repetition.value_or(0) == static_cast<int32_t>(Repetition::kOptional);
  int32_t type = *e.type;
  if (type < 0 || type > static_cast<int32_t>(PhysicalType::kFixedLenByteArray)) {
    return InvalidArgument(Fmt("column '{}': unknown physical type {}", e.name, type));
  }
  c.physical = static_cast<PhysicalType>(type);
  bool decimal = e.logical_decimal || e.converted_type == kConvertedDecimal;
  switch (c.physical) {
    case PhysicalType::kBoolean: c.kind = ColumnKind::kBoolean; break;
    case PhysicalType::kInt32:
    case PhysicalType::kInt64:
      c.kind = decimal ? ColumnKind::kDecimal : ColumnKind::kInteger;
      break;
    case PhysicalType::kFloat:
    case PhysicalType::kDouble: c.kind = ColumnKind::kFloat; break;
    case PhysicalType::kByteArray:
      c.kind = decimal ? ColumnKind::kUnsupported : ColumnKind::kString;
      break;
    case PhysicalType::kFixedLenByteArray:
      c.kind = decimal ? ColumnKind::kDecimal : ColumnKind::kUnsupported;
      if (e.type_length <= 0) {
        return InvalidArgument(
            Fmt("column '{}': FIXED_LEN_BYTE_ARRAY of length {}", e.name, e.type_length));
      }
      if (decimal && e.type_length > 16) c.kind = ColumnKind::kUnsupported;  // past 128 bits
      break;
    case PhysicalType::kInt96: c.kind = ColumnKind::kUnsupported; break;
  }
  if (c.kind == ColumnKind::kDecimal) {
    c.scale = e.scale.value_or(0);
    c.precision = e.precision.value_or(0);
    if (c.scale < 0 || c.scale > 76) {
      return InvalidArgument(Fmt("column '{}': decimal scale {} out of range", e.name, c.scale));
    }
  }
  desc.name = c.name;
  desc.physical = type;
  desc.type_length = e.type_length;
  desc.optional = c.nullable;
  desc.decimal = c.kind == ColumnKind::kDecimal;
  desc.scale = c.scale;
  return c;
}

}  // namespace

std::string ColumnInfo::TypeName() const {
  switch (kind) {
    case ColumnKind::kDecimal: return Fmt("DECIMAL({},{})", precision, scale);
    case ColumnKind::kString: return "STRING";
    default: return std::string(PhysicalTypeName(static_cast<int32_t>(physical)));
  }
}

Result<std::unique_ptr<ParquetFile>> ParquetFile::Open(const std::string& path, std::string name) {
  if (name.empty()) name = path;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return IoError(Fmt("{}: cannot open: {}", name, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return IoError(Fmt("{}: cannot stat: {}", name, std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) return InvalidArgument(Fmt("{}: not a regular file", name));
  std::unique_ptr<ParquetFile> f(new ParquetFile());
  f->name_ = std::move(name);
  auto size = static_cast<size_t>(st.st_size);
  if (size > 0) {
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (map == MAP_FAILED)
      return IoError(Fmt("{}: cannot map: {}", f->name_, std::strerror(errno)));
    f->map_ = map;
    f->map_size_ = size;
    f->bytes_ = std::string_view(static_cast<const char*>(map), size);
  }
  LOTE_TRY(f->Parse());
  return f;
}

Result<std::unique_ptr<ParquetFile>> ParquetFile::FromBytes(std::string name,
                                                            std::string_view bytes) {
  std::unique_ptr<ParquetFile> f(new ParquetFile());
  f->name_ = std::move(name);
  f->bytes_ = bytes;
  LOTE_TRY(f->Parse());
  return f;
}

ParquetFile::~ParquetFile() {
  // munmap fails only for an invalid range, which would be our bug.
  if (map_) LOTE_CHECK(::munmap(map_, map_size_) == 0);
}

Status ParquetFile::Parse() {
  auto fail = [&](std::string what) { return InvalidArgument(Fmt("{}: {}", name_, what)); };
  const size_t size = bytes_.size();
  if (size < 12)
    return fail(Fmt("not a Parquet file: {} bytes, too short for the magic and footer", size));
  std::string_view tail = bytes_.substr(size - 4);
  if (tail == kEncryptedMagic) return fail("encrypted Parquet files are not supported");
  if (tail != kMagic || bytes_.substr(0, 4) != kMagic) {
    return fail(
        Fmt("not a Parquet file: bad magic (starts with '{}', ends with '{}'; expected 'PAR1')",
            Printable(bytes_.substr(0, 4)), Printable(tail)));
  }
  uint32_t footer_len = 0;
  std::memcpy(&footer_len, bytes_.data() + size - 8, 4);
  if (footer_len > size - 12) {
    return fail(Fmt("truncated footer: it says {} bytes, the file has {} before it", footer_len,
                    size - 12));
  }
  data_end_ = size - 8 - footer_len;
  auto md = ParseFileMetaData(bytes_.substr(data_end_, footer_len));
  if (!md) return md.error().WithContext(name_);
  meta_ = std::move(*md);
  created_by_ = meta_.created_by;

  // Schema: a root and its leaf columns, nothing nested.
  if (meta_.schema.empty()) return fail("footer: empty schema");
  const SchemaElement& root = meta_.schema[0];
  for (size_t i = 1; i < meta_.schema.size(); ++i) {
    const SchemaElement& e = meta_.schema[i];
    if (e.num_children > 0 || !e.type) {
      return fail(
          Fmt("column '{}' is nested (a group of {} fields); only flat schemas are supported",
              e.name, e.num_children));
    }
    if (e.repetition == static_cast<int32_t>(Repetition::kRepeated)) {
      return fail(Fmt("column '{}' is repeated (a list); only flat schemas are supported", e.name));
    }
    ColumnDesc desc;
    auto info = DescribeColumn(e, desc);
    if (!info) return info.error().WithContext(name_);
    columns_.push_back(std::move(*info));
    descs_.push_back(std::move(desc));
  }
  if (root.num_children != static_cast<int32_t>(columns_.size())) {
    return fail(Fmt("footer: the schema's root has {} children, {} columns follow",
                    root.num_children, columns_.size()));
  }

  int64_t first_row = 0;
  for (size_t g = 0; g < meta_.row_groups.size(); ++g) {
    const RowGroup& rg = meta_.row_groups[g];
    auto gfail = [&](std::string what) { return fail(Fmt("row group {}: {}", g, what)); };
    if (rg.num_rows < 0 || rg.num_rows > kMaxRowGroupRows)
      return gfail(Fmt("{} rows", rg.num_rows));
    if (rg.columns.size() != columns_.size()) {
      return gfail(Fmt("{} column chunks for {} columns", rg.columns.size(), columns_.size()));
    }
    RowGroupInfo info{.rows = rg.num_rows, .first_row = first_row, .byte_size = rg.total_byte_size};
    for (size_t c = 0; c < rg.columns.size(); ++c) {
      const ColumnChunk& chunk = rg.columns[c];
      auto cfail = [&](std::string what) {
        return gfail(Fmt("column '{}': {}", columns_[c].name, what));
      };
      if (!chunk.file_path.empty())
        return cfail(Fmt("column chunk in another file ('{}')", chunk.file_path));
      if (!chunk.meta_data) return cfail("column chunk without its metadata");
      const ColumnMetaData& m = *chunk.meta_data;
      if (m.type != descs_[c].physical) {
        return cfail(Fmt("column chunk of type {} in a column of type {}", PhysicalTypeName(m.type),
                         PhysicalTypeName(descs_[c].physical)));
      }
      if (m.total_compressed_size < 0 || m.total_compressed_size > static_cast<int64_t>(size)) {
        return cfail(
            Fmt("column chunk of {} bytes in a file of {}", m.total_compressed_size, size));
      }
      // The chunk must lie in the data, before the footer (checked again
      // when it is read): a file cut short fails when it is opened.
      int64_t start = m.data_page_offset;
      if (m.dictionary_page_offset && *m.dictionary_page_offset > 0 &&
          *m.dictionary_page_offset < start) {
        start = *m.dictionary_page_offset;
      }
      if (start < 4 || m.total_compressed_size < 0 || static_cast<uint64_t>(start) > data_end_ ||
          static_cast<uint64_t>(m.total_compressed_size) >
              data_end_ - static_cast<uint64_t>(start)) {
        // Both numbers come from the file: printed apart, never added (they may overflow).
        return cfail(Fmt("column chunk at byte {} of {} bytes goes past the end of the data (byte {})", start,
                         m.total_compressed_size, data_end_));
      }
      info.compressed_bytes += m.total_compressed_size;
      const auto begin = static_cast<uint64_t>(start);
      const uint64_t end = begin + static_cast<uint64_t>(m.total_compressed_size);  // <= data_end_
      if (c == 0 || begin < info.data_begin) info.data_begin = begin;
      if (c == 0 || end > info.data_end) info.data_end = end;
    }
    first_row += rg.num_rows;
    row_groups_.push_back(info);
  }
  if (first_row != meta_.num_rows) {
    return fail(
        Fmt("footer: the row groups hold {} rows, the file says {}", first_row, meta_.num_rows));
  }
  num_rows_ = meta_.num_rows;
  return {};
}

std::optional<size_t> ParquetFile::FindColumn(std::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return i;
  }
  return std::nullopt;
}

Result<std::vector<size_t>> ParquetFile::NumericColumns(std::span<const std::string> names) const {
  std::vector<size_t> out;
  out.reserve(names.size());
  for (const std::string& n : names) {
    auto c = FindColumn(n);
    if (!c) return InvalidArgument(Fmt("{}: no column '{}'", name_, n));
    const ColumnInfo& info = columns_[*c];
    if (info.kind == ColumnKind::kString || info.kind == ColumnKind::kUnsupported) {
      return InvalidArgument(Fmt("{}: column '{}' is {}, which cannot be cast to a number", name_,
                                 n, info.TypeName()));
    }
    out.push_back(*c);
  }
  return out;
}

Error ParquetFile::ColumnError(size_t row_group, size_t column, const Error& e) const {
  return e.WithContext(
      Fmt("{}: row group {}: column '{}'", name_, row_group, columns_[column].name));
}

template <class T>
Status ParquetFile::ReadNumbers(size_t row_group, std::span<const size_t> columns, T* out,
                                size_t row_stride) const {
  if (row_group >= row_groups_.size()) {
    return InvalidArgument(
        Fmt("{}: no row group {} (it has {})", name_, row_group, row_groups_.size()));
  }
  if (row_stride < columns.size()) {
    return InvalidArgument(
        Fmt("row stride {} is less than the {} columns read", row_stride, columns.size()));
  }
  for (size_t k = 0; k < columns.size(); ++k) {
    size_t c = columns[k];
    if (c >= columns_.size()) return InvalidArgument(Fmt("{}: no column #{}", name_, c));
    const ColumnInfo& info = columns_[c];
    if (info.kind == ColumnKind::kString || info.kind == ColumnKind::kUnsupported) {
      return ColumnError(row_group, c,
                         InvalidArgument(Fmt("{} cannot be cast to a number", info.TypeName())));
    }
    NumberSink<T> sink{.out = out + k, .stride = row_stride};
    if (info.kind == ColumnKind::kDecimal) {
      sink.decimal = true;
      sink.decimal_divisor = std::pow(10.0, info.scale);
    }
    const ColumnMetaData& meta = *meta_.row_groups[row_group].columns[c].meta_data;
    Status s =
        ReadColumnChunk(bytes_, data_end_, descs_[c], meta, row_groups_[row_group].rows, sink);
    if (!s) return ColumnError(row_group, c, s.error());
  }
  return {};
}

Status ParquetFile::ReadFloats(size_t row_group, std::span<const size_t> columns, float* out,
                               size_t row_stride) const {
  return ReadNumbers(row_group, columns, out, row_stride);
}

Status ParquetFile::ReadDoubles(size_t row_group, std::span<const size_t> columns, double* out,
                                size_t row_stride) const {
  return ReadNumbers(row_group, columns, out, row_stride);
}

Result<std::vector<std::optional<std::string>>> ParquetFile::ReadStrings(size_t row_group,
                                                                         size_t column) const {
  if (row_group >= row_groups_.size()) {
    return InvalidArgument(
        Fmt("{}: no row group {} (it has {})", name_, row_group, row_groups_.size()));
  }
  if (column >= columns_.size()) return InvalidArgument(Fmt("{}: no column #{}", name_, column));
  if (columns_[column].kind != ColumnKind::kString) {
    return ColumnError(
        row_group, column,
        InvalidArgument(Fmt("{} is not a string column", columns_[column].TypeName())));
  }
  std::vector<std::optional<std::string>> out(static_cast<size_t>(row_groups_[row_group].rows));
  StringSink sink{.out = &out};
  const ColumnMetaData& meta = *meta_.row_groups[row_group].columns[column].meta_data;
  Status s =
      ReadColumnChunk(bytes_, data_end_, descs_[column], meta, row_groups_[row_group].rows, sink);
  if (!s) return ColumnError(row_group, column, s.error());
  return out;
}

}  // namespace lote::parquet
