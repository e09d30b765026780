#include "parquet/metadata.h"

#include "parquet/fmt.h"
#include "parquet/thrift_compact.h"

namespace lote::parquet {

namespace {

// LOTE_ASSIGN_OR_RETURN into an existing variable, in its own scope (so it
// can stand in a switch case).
#define READ_INTO(lhs, expr)                        \
  do {                                              \
    auto read_into_r_ = (expr);                     \
    if (!read_into_r_) return read_into_r_.error(); \
    lhs = std::move(*read_into_r_);                 \
  } while (0)

// Reads one struct: fn(reader, field) handles the fields it knows and
// returns false for the others, which are skipped.
template <class Fn>
Status ReadStruct(ThriftReader& r, Fn&& fn) {
  LOTE_TRY(r.BeginStruct());
  while (true) {
    auto f = r.ReadFieldHeader();
    if (!f) {
      r.EndStruct();
      return f.error();
    }
    if (f->type == ThriftType::kStop) break;
    Result<bool> handled = fn(*f);
    if (!handled) {
      r.EndStruct();
      return handled.error();
    }
    if (!*handled) {
      Status s = r.Skip(f->type);
      if (!s) {
        r.EndStruct();
        return s;
      }
    }
  }
  r.EndStruct();
  return {};
}

// A field whose wire type is not the one the format gives it is skipped
// rather than misread (Expect returns false, ReadStruct skips it).
bool Is(const ThriftField& f, ThriftType t) {
  return f.type == t;
}
bool IsBool(const ThriftField& f) {
  return f.type == ThriftType::kBoolTrue || f.type == ThriftType::kBoolFalse;
}

template <class T, class ElemFn>
Status ReadList(ThriftReader& r, ThriftType element, std::vector<T>& out, ElemFn&& elem) {
  LOTE_ASSIGN_OR_RETURN(ThriftList list, r.ReadListHeader());
  if (list.element != element) {
    // Skip the elements of an unexpected type.
    for (uint32_t i = 0; i < list.size; ++i) LOTE_TRY(r.Skip(list.element));
    return {};
  }
  out.reserve(list.size);  // bounded by the bytes left (ReadListHeader)
  for (uint32_t i = 0; i < list.size; ++i) {
    T value{};
    LOTE_TRY(elem(value));
    out.push_back(std::move(value));
  }
  return {};
}

Status ReadDecimalType(ThriftReader& r, SchemaElement& e) {
  return ReadStruct(r, [&](const ThriftField& f) -> Result<bool> {
    if (f.id == 1 && Is(f, ThriftType::kI32)) {
      READ_INTO(e.scale, r.ReadI32());
    } else if (f.id == 2 && Is(f, ThriftType::kI32)) {
      READ_INTO(e.precision, r.ReadI32());
    } else {
      return false;
    }
    return true;
  });
}

Status ReadLogicalType(ThriftReader& r, SchemaElement& e) {
  return ReadStruct(r, [&](const ThriftField& f) -> Result<bool> {
    if (f.id == 1 && Is(f, ThriftType::kStruct)) {  // STRING
      e.logical_string = true;
      return false;  // an empty struct: skip it
    }
    if (f.id == 5 && Is(f, ThriftType::kStruct)) {  // DECIMAL
      e.logical_decimal = true;
      LOTE_TRY(ReadDecimalType(r, e));
      return true;
    }
    return false;
  });
}

Status ReadSchemaElement(ThriftReader& r, SchemaElement& e) {
  return ReadStruct(r, [&](const ThriftField& f) -> Result<bool> {
    switch (f.id) {
      case 1:
        if (!Is(f, ThriftType::kI32)) return false;
        READ_INTO(e.type, r.ReadI32());
        return true;
      case 2:
        if (!Is(f, ThriftType::kI32)) return false;
        READ_INTO(e.type_length, r.ReadI32());
        return true;
      case 3:
        if (!Is(f, ThriftType::kI32)) return false;
        READ_INTO(e.repetition, r.ReadI32());
        return true;
      case 4: {
        if (!Is(f, ThriftType::kBinary)) return false;
        LOTE_ASSIGN_OR_RETURN(std::string_view name, r.ReadBinary());
        e.name = std::string(name);
        return true;
      }
      case 5:
        if (!Is(f, ThriftType::kI32)) return false;
        READ_INTO(e.num_children, r.ReadI32());
        return true;
      case 6:
        if (!Is(f, ThriftType::kI32)) return false;
        READ_INTO(e.converted_type, r.ReadI32());
        return true;
      case 7:
        if (!Is(f, ThriftType::kI32)) return false;
        READ_INTO(e.scale, r.ReadI32());
        return true;
      case 8:
        if (!Is(f, ThriftType::kI32)) return false;
        READ_INTO(e.precision, r.ReadI32());
        return true;
      case 10:
        if (!Is(f, ThriftType::kStruct)) return false;
        LOTE_TRY(ReadLogicalType(r, e));
        return true;
      default: return false;
    }
  });
}

Status ReadColumnMetaData(ThriftReader& r, ColumnMetaData& m) {
  return ReadStruct(r, [&](const ThriftField& f) -> Result<bool> {
    switch (f.id) {
      case 1:
        if (!Is(f, ThriftType::kI32)) return false;
        READ_INTO(m.type, r.ReadI32());
        return true;
      case 2:
        if (!Is(f, ThriftType::kList)) return false;
        LOTE_TRY(ReadList(r, ThriftType::kI32, m.encodings, [&](int32_t& v) -> Status {
          READ_INTO(v, r.ReadI32());
          return {};
        }));
        return true;
      case 3:
        if (!Is(f, ThriftType::kList)) return false;
        LOTE_TRY(ReadList(r, ThriftType::kBinary, m.path_in_schema, [&](std::string& v) -> Status {
          LOTE_ASSIGN_OR_RETURN(std::string_view s, r.ReadBinary());
          v = std::string(s);
          return {};
        }));
        return true;
      case 4:
        if (!Is(f, ThriftType::kI32)) return false;
        READ_INTO(m.codec, r.ReadI32());
        return true;
      case 5:
        if (!Is(f, ThriftType::kI64)) return false;
        READ_INTO(m.num_values, r.ReadI64());
        return true;
      case 6:
        if (!Is(f, ThriftType::kI64)) return false;
        READ_INTO(m.total_uncompressed_size, r.ReadI64());
        return true;
      case 7:
        if (!Is(f, ThriftType::kI64)) return false;
        READ_INTO(m.total_compressed_size, r.ReadI64());
        return true;
      case 9:
        if (!Is(f, ThriftType::kI64)) return false;
        READ_INTO(m.data_page_offset, r.ReadI64());
        return true;
      case 11:
        if (!Is(f, ThriftType::kI64)) return false;
        READ_INTO(m.dictionary_page_offset, r.ReadI64());
        return true;
      default: return false;
    }
  });
}

Status ReadColumnChunk(ThriftReader& r, ColumnChunk& c) {
  return ReadStruct(r, [&](const ThriftField& f) -> Result<bool> {
    if (f.id == 1 && Is(f, ThriftType::kBinary)) {
      LOTE_ASSIGN_OR_RETURN(std::string_view s, r.ReadBinary());
      c.file_path = std::string(s);
      return true;
    }
    if (f.id == 3 && Is(f, ThriftType::kStruct)) {
      c.meta_data.emplace();
      LOTE_TRY(ReadColumnMetaData(r, *c.meta_data));
      return true;
    }
    return false;
  });
}

Status ReadRowGroup(ThriftReader& r, RowGroup& g) {
  return ReadStruct(r, [&](const ThriftField& f) -> Result<bool> {
    if (f.id == 1 && Is(f, ThriftType::kList)) {
      LOTE_TRY(ReadList(r, ThriftType::kStruct, g.columns,
                        [&](ColumnChunk& c) { return ReadColumnChunk(r, c); }));
      return true;
    }
    if (f.id == 2 && Is(f, ThriftType::kI64)) {
      READ_INTO(g.total_byte_size, r.ReadI64());
      return true;
    }
    if (f.id == 3 && Is(f, ThriftType::kI64)) {
      READ_INTO(g.num_rows, r.ReadI64());
      return true;
    }
    return false;
  });
}

}  // namespace

std::string_view PhysicalTypeName(int32_t type) {
  static constexpr std::string_view kNames[] = {
      "BOOLEAN", "INT32",  "INT64",      "INT96",
      "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  return type >= 0 && type < 8 ? kNames[type] : "unknown type";
}

std::string_view EncodingName(int32_t encoding) {
  static constexpr std::string_view kNames[] = {
      "PLAIN",          "GROUP_VAR_INT",       "PLAIN_DICTIONARY",        "RLE",
      "BIT_PACKED",     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
      "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
  return encoding >= 0 && encoding < 10 ? kNames[encoding] : "unknown encoding";
}

std::string_view CodecName(int32_t codec) {
  static constexpr std::string_view kNames[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                                "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
  return codec >= 0 && codec < 8 ? kNames[codec] : "unknown codec";
}

Result<FileMetaData> ParseFileMetaData(std::string_view bytes) {
  ThriftReader r(bytes);
  FileMetaData md;
  bool have_schema = false, have_rows = false, have_groups = false;
  Status s = ReadStruct(r, [&](const ThriftField& f) -> Result<bool> {
    switch (f.id) {
      case 1:
        if (!Is(f, ThriftType::kI32)) return false;
        READ_INTO(md.version, r.ReadI32());
        return true;
      case 2:
        if (!Is(f, ThriftType::kList)) return false;
        LOTE_TRY(ReadList(r, ThriftType::kStruct, md.schema,
                          [&](SchemaElement& e) { return ReadSchemaElement(r, e); }));
        have_schema = true;
        return true;
      case 3:
        if (!Is(f, ThriftType::kI64)) return false;
        READ_INTO(md.num_rows, r.ReadI64());
        have_rows = true;
        return true;
      case 4:
        if (!Is(f, ThriftType::kList)) return false;
        LOTE_TRY(ReadList(r, ThriftType::kStruct, md.row_groups,
                          [&](RowGroup& g) { return ReadRowGroup(r, g); }));
        have_groups = true;
        return true;
      case 6: {
        if (!Is(f, ThriftType::kBinary)) return false;
        LOTE_ASSIGN_OR_RETURN(std::string_view v, r.ReadBinary());
        md.created_by = std::string(v);
        return true;
      }
      default: return false;
    }
  });
  if (!s) return s.error().WithContext("footer");
  if (!have_schema || !have_rows || !have_groups) {
    return InvalidArgument("footer: FileMetaData lacks its schema, num_rows or row_groups");
  }
  return md;
}

Result<PageHeader> ParsePageHeader(std::string_view bytes, size_t* header_size) {
  ThriftReader r(bytes);
  PageHeader h;
  bool have_type = false, have_sizes = false;
  Status s = ReadStruct(r, [&](const ThriftField& f) -> Result<bool> {
    switch (f.id) {
      case 1:
        if (!Is(f, ThriftType::kI32)) return false;
        READ_INTO(h.type, r.ReadI32());
        have_type = true;
        return true;
      case 2:
        if (!Is(f, ThriftType::kI32)) return false;
        READ_INTO(h.uncompressed_page_size, r.ReadI32());
        return true;
      case 3:
        if (!Is(f, ThriftType::kI32)) return false;
        READ_INTO(h.compressed_page_size, r.ReadI32());
        have_sizes = true;
        return true;
      case 5: {
        if (!Is(f, ThriftType::kStruct)) return false;
        DataPageHeader& d = h.data_page_header.emplace();
        LOTE_TRY(ReadStruct(r, [&](const ThriftField& g) -> Result<bool> {
          if (!Is(g, ThriftType::kI32) || g.id < 1 || g.id > 4) return false;
          LOTE_ASSIGN_OR_RETURN(int32_t v, r.ReadI32());
          (g.id == 1   ? d.num_values
           : g.id == 2 ? d.encoding
           : g.id == 3 ? d.definition_level_encoding
                       : d.repetition_level_encoding) = v;
          return true;
        }));
        return true;
      }
      case 7: {
        if (!Is(f, ThriftType::kStruct)) return false;
        DictionaryPageHeader& d = h.dictionary_page_header.emplace();
        LOTE_TRY(ReadStruct(r, [&](const ThriftField& g) -> Result<bool> {
          if (!Is(g, ThriftType::kI32) || g.id < 1 || g.id > 2) return false;
          LOTE_ASSIGN_OR_RETURN(int32_t v, r.ReadI32());
          (g.id == 1 ? d.num_values : d.encoding) = v;
          return true;
        }));
        return true;
      }
      case 8: {
        if (!Is(f, ThriftType::kStruct)) return false;
        DataPageHeaderV2& d = h.data_page_header_v2.emplace();
        LOTE_TRY(ReadStruct(r, [&](const ThriftField& g) -> Result<bool> {
          if (g.id == 7 && IsBool(g)) {
            d.is_compressed = g.bool_value;
            return true;
          }
          if (!Is(g, ThriftType::kI32) || g.id < 1 || g.id > 6) return false;
          LOTE_ASSIGN_OR_RETURN(int32_t v, r.ReadI32());
          int32_t* fields[] = {&d.num_values,
                               &d.num_nulls,
                               &d.num_rows,
                               &d.encoding,
                               &d.definition_levels_byte_length,
                               &d.repetition_levels_byte_length};
          *fields[g.id - 1] = v;
          return true;
        }));
        return true;
      }
      default: return false;
    }
  });
  if (!s) return s.error().WithContext("page header");
  if (!have_type || !have_sizes) return InvalidArgument("page header lacks its type or sizes");
  if (h.compressed_page_size < 0 || h.uncompressed_page_size < 0) {
    return InvalidArgument(Fmt("page header gives a negative size ({} compressed, {} uncompressed)",
                               h.compressed_page_size, h.uncompressed_page_size));
  }
  *header_size = r.position();
  return h;
}

}  // namespace lote::parquet
