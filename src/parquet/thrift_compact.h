// A reader of the Thrift compact protocol, enough for Parquet's footer and
// page headers (docs/parquet.md). Our own code, not generated: the caller
// walks a struct field by field and skips what it does not know.
//
// Hostile input is expected. Every read is bounds-checked against the
// buffer; a nested struct or list deeper than kMaxDepth, a list longer than
// the bytes left could hold, or a string longer than the buffer is an error,
// so no input recurses without bound or allocates more than its own size.
// Errors are InvalidArgument naming what was wrong and the byte offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lote::parquet {

// The compact protocol's wire types (a field header's low nibble).
enum class ThriftType : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

struct ThriftField {
  int16_t id = 0;
  ThriftType type = ThriftType::kStop;
  bool bool_value = false;  // a bool field's value travels in its header
};

struct ThriftList {
  ThriftType element = ThriftType::kStop;
  uint32_t size = 0;
};

class ThriftReader {
 public:
  static constexpr int kMaxDepth = 32;

  explicit ThriftReader(std::string_view bytes) : bytes_(bytes) {}

  size_t position() const { return pos_; }

  // Struct framing: BeginStruct before the first ReadFieldHeader of a struct,
  // EndStruct after its kStop (restores the previous field id for deltas).
  Status BeginStruct();
  void EndStruct();
  // The next field's header; type kStop ends the struct.
  Result<ThriftField> ReadFieldHeader();
  Result<ThriftList> ReadListHeader();

  Result<int32_t> ReadI32();
  Result<int64_t> ReadI64();
  Result<std::string_view> ReadBinary();  // a view into the buffer
  // A bool that is a list element (one byte, unlike a field's bool).
  Result<bool> ReadListBool();

  // Skips a value of the given type, nested structs and lists included.
  Status Skip(ThriftType type);

  // "<what> at byte <position>" as an InvalidArgument error.
  Error Fail(std::string_view what) const;

 private:
  Result<uint64_t> ReadVarint();
  Result<uint8_t> ReadByte();
  Status SkipListBool();

  std::string_view bytes_;
  size_t pos_ = 0;
  int depth_ = 0;
  int16_t last_field_id_ = 0;
  int16_t saved_ids_[kMaxDepth + 1] = {};
};

}  // namespace lote::parquet
