#include "parquet/thrift_compact.h"

#include "parquet/fmt.h"

namespace lote::parquet {

namespace {

int64_t ZigZag(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

bool KnownType(uint8_t t) {
  return t <= static_cast<uint8_t>(ThriftType::kStruct);
}

}  // namespace

Error ThriftReader::Fail(std::string_view what) const {
  return InvalidArgument(Fmt("{} at byte {}", what, pos_));
}

Result<uint8_t> ThriftReader::ReadByte() {
  if (pos_ >= bytes_.size()) return Fail("truncated Thrift data");
  return static_cast<uint8_t>(bytes_[pos_++]);
}

Result<uint64_t> ThriftReader::ReadVarint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    LOTE_ASSIGN_OR_RETURN(uint8_t b, ReadByte());
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  return Fail("Thrift varint longer than 10 bytes");
}

Status ThriftReader::BeginStruct() {
  if (depth_ >= kMaxDepth) return Fail(Fmt("Thrift structs nested deeper than {}", kMaxDepth));
  saved_ids_[depth_++] = last_field_id_;
  last_field_id_ = 0;
  return {};
}

void ThriftReader::EndStruct() {
  LOTE_CHECK(depth_ > 0);
  last_field_id_ = saved_ids_[--depth_];
}

Result<ThriftField> ThriftReader::ReadFieldHeader() {
  LOTE_ASSIGN_OR_RETURN(uint8_t b, ReadByte());
  ThriftField f;
  uint8_t type = b & 0x0f;
  if (type == 0) return f;  // kStop
  if (!KnownType(type)) return Fail(Fmt("unknown Thrift field type {}", type));
  f.type = static_cast<ThriftType>(type);
  uint8_t delta = b >> 4;
  if (delta != 0) {
    f.id = static_cast<int16_t>(last_field_id_ + delta);
  } else {
    LOTE_ASSIGN_OR_RETURN(uint64_t raw, ReadVarint());
    int64_t id = ZigZag(raw);
    if (id < INT16_MIN || id > INT16_MAX) return Fail("Thrift field id out of range");
    f.id = static_cast<int16_t>(id);
  }
  last_field_id_ = f.id;
  if (f.type == ThriftType::kBoolTrue || f.type == ThriftType::kBoolFalse) {
    f.bool_value = f.type == ThriftType::kBoolTrue;
  }
  return f;
}

Result<ThriftList> ThriftReader::ReadListHeader() {
  LOTE_ASSIGN_OR_RETURN(uint8_t b, ReadByte());
  ThriftList list;
  uint8_t type = b & 0x0f;
  if (type == 0 || !KnownType(type)) return Fail(Fmt("bad Thrift list element type {}", type));
  list.element = static_cast<ThriftType>(type);
  uint64_t size = b >> 4;
  if (size == 15) {
    LOTE_ASSIGN_OR_RETURN(size, ReadVarint());
  }
  // Every element takes at least one byte (bools in lists, varints): a list
  // cannot hold more elements than bytes are left, which bounds what a
  // caller reserves for it by the input's size.
  if (size > bytes_.size() - pos_)
    return Fail(Fmt("Thrift list of {} elements longer than its data", size));
  list.size = static_cast<uint32_t>(size);
  return list;
}

Result<int32_t> ThriftReader::ReadI32() {
  LOTE_ASSIGN_OR_RETURN(uint64_t raw, ReadVarint());
  int64_t v = ZigZag(raw);
  if (v < INT32_MIN || v > INT32_MAX) return Fail("Thrift i32 out of range");
  return static_cast<int32_t>(v);
}

Result<int64_t> ThriftReader::ReadI64() {
  LOTE_ASSIGN_OR_RETURN(uint64_t raw, ReadVarint());
  return ZigZag(raw);
}

Result<std::string_view> ThriftReader::ReadBinary() {
  LOTE_ASSIGN_OR_RETURN(uint64_t size, ReadVarint());
  if (size > bytes_.size() - pos_) return Fail(Fmt("Thrift string of {} bytes past the end", size));
  std::string_view v = bytes_.substr(pos_, size);
  pos_ += size;
  return v;
}

Result<bool> ThriftReader::ReadListBool() {
  LOTE_ASSIGN_OR_RETURN(uint8_t b, ReadByte());
  return b == 1;
}

Status ThriftReader::SkipListBool() {
  LOTE_TRY(ReadByte());
  return {};
}

Status ThriftReader::Skip(ThriftType type) {
  switch (type) {
    case ThriftType::kBoolTrue:
    case ThriftType::kBoolFalse: return {};  // the value was in the field header
    case ThriftType::kByte: {
      LOTE_TRY(ReadByte());
      return {};
    }
    case ThriftType::kI16:
    case ThriftType::kI32:
    case ThriftType::kI64: {
      LOTE_TRY(ReadVarint());
      return {};
    }
    case ThriftType::kDouble:
      if (bytes_.size() - pos_ < 8) return Fail("truncated Thrift double");
      pos_ += 8;
      return {};
    case ThriftType::kBinary: {
      LOTE_TRY(ReadBinary());
      return {};
    }
    case ThriftType::kList:
    case ThriftType::kSet: {
      LOTE_ASSIGN_OR_RETURN(ThriftList list, ReadListHeader());
      LOTE_TRY(BeginStruct());  // counts towards the depth limit
      for (uint32_t i = 0; i < list.size; ++i) {
        Status s = list.element == ThriftType::kBoolTrue || list.element == ThriftType::kBoolFalse
                       ? SkipListBool()
                       : Skip(list.element);
        if (!s) {
          EndStruct();
          return s;
        }
      }
      EndStruct();
      return {};
    }
    case ThriftType::kMap: {
      LOTE_ASSIGN_OR_RETURN(uint64_t size, ReadVarint());
      if (size == 0) return {};
      if (size > bytes_.size() - pos_) return Fail("Thrift map longer than its data");
      LOTE_ASSIGN_OR_RETURN(uint8_t kv, ReadByte());
      if (!KnownType(kv >> 4) || !KnownType(kv & 0x0f) || (kv >> 4) == 0 || (kv & 0x0f) == 0) {
        return Fail("bad Thrift map types");
      }
      LOTE_TRY(BeginStruct());
      for (uint64_t i = 0; i < size; ++i) {
        for (uint8_t t : {static_cast<uint8_t>(kv >> 4), static_cast<uint8_t>(kv & 0x0f)}) {
          auto type_i = static_cast<ThriftType>(t);
          Status s = type_i == ThriftType::kBoolTrue || type_i == ThriftType::kBoolFalse
                         ? SkipListBool()
                         : Skip(type_i);
          if (!s) {
            EndStruct();
            return s;
          }
        }
      }
      EndStruct();
      return {};
    }
    case ThriftType::kStruct: {
      LOTE_TRY(BeginStruct());
      while (true) {
        auto f = ReadFieldHeader();
        if (!f) {
          EndStruct();
          return f.error();
        }
        if (f->type == ThriftType::kStop) break;
        Status s = Skip(f->type);
        if (!s) {
          EndStruct();
          return s;
        }
      }
      EndStruct();
      return {};
    }
    case ThriftType::kStop: break;
  }
  return Fail("unexpected Thrift stop");
}

}  // namespace lote::parquet
