// The Thrift compact reader and the value decoders on hand-made bytes:
// unknown fields are skipped whatever their type, and hostile headers
// (deep nesting, lists longer than their data, overlong varints, impossible
// bit widths) are errors, not recursion or allocation.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "parquet/encoding.h"
#include "parquet/metadata.h"
#include "parquet/thrift_compact.h"

namespace lote::parquet {
namespace {

// A minimal compact-protocol writer for the tests' inputs.
class Writer {
 public:
  Writer& Field(int16_t id, ThriftType type) {
    int delta = id - last_;
    if (delta > 0 && delta <= 15) {
      out_ += static_cast<char>((delta << 4) | static_cast<int>(type));
    } else {
      out_ += static_cast<char>(type);
      Varint((static_cast<uint64_t>(id) << 1) ^ static_cast<uint64_t>(id >> 15));
    }
    last_ = id;
    return *this;
  }
  Writer& I32(int32_t v) {
    return Varint((static_cast<uint64_t>(static_cast<uint32_t>(v)) << 1) ^
                  static_cast<uint64_t>(v >> 31));
  }
  Writer& I64(int64_t v) {
    return Varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  Writer& Binary(std::string_view s) {
    Varint(s.size());
    out_ += s;
    return *this;
  }
  Writer& List(ThriftType element, uint32_t n) {
    if (n < 15) {
      out_ += static_cast<char>((n << 4) | static_cast<int>(element));
    } else {
      out_ += static_cast<char>(0xf0 | static_cast<int>(element));
      Varint(n);
    }
    return *this;
  }
  // Nested structs reset the field id deltas.
  Writer& BeginStruct() {
    saved_.push_back(last_);
    last_ = 0;
    return *this;
  }
  Writer& Stop() {
    out_ += '\0';
    if (!saved_.empty()) {
      last_ = saved_.back();
      saved_.pop_back();
    }
    return *this;
  }
  Writer& Raw(std::string_view s) {
    out_ += s;
    return *this;
  }
  Writer& Varint(uint64_t v) {
    while (v >= 0x80) {
      out_ += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out_ += static_cast<char>(v);
    return *this;
  }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
  int16_t last_ = 0;
  std::vector<int16_t> saved_;
};

// FileMetaData{version 1, schema [root, x INT32 OPTIONAL], num_rows 0,
// row_groups []}, with `extra` written between the schema and num_rows.
std::string Footer(const std::function<void(Writer&)>& extra) {
  Writer w;
  w.BeginStruct();
  w.Field(1, ThriftType::kI32).I32(1);
  w.Field(2, ThriftType::kList).List(ThriftType::kStruct, 2);
  w.BeginStruct()
      .Field(4, ThriftType::kBinary)
      .Binary("schema")
      .Field(5, ThriftType::kI32)
      .I32(1)
      .Stop();
  w.BeginStruct()
      .Field(1, ThriftType::kI32)
      .I32(1)
      .Field(3, ThriftType::kI32)
      .I32(1)
      .Field(4, ThriftType::kBinary)
      .Binary("x")
      .Stop();
  extra(w);
  w.Field(3, ThriftType::kI64).I64(0);
  w.Field(4, ThriftType::kList).List(ThriftType::kStruct, 0);
  w.Stop();
  return w.str();
}

TEST(ParquetThrift, ParsesAMinimalFooter) {
  auto md = ParseFileMetaData(Footer([](Writer&) {}));
  ASSERT_TRUE(md.has_value()) << md.error().message();
  ASSERT_EQ(md->schema.size(), 2u);
  EXPECT_EQ(md->schema[1].name, "x");
  EXPECT_EQ(md->schema[1].type, 1);
  EXPECT_EQ(md->schema[0].num_children, 1);
}

TEST(ParquetThrift, SkipsUnknownFieldsOfEveryType) {
  auto md = ParseFileMetaData(Footer([](Writer& w) {
    // Field ids the reader does not know, some written in the long form.
    w.Field(2, ThriftType::kBoolTrue);  // a repeated known id with the wrong type: skipped too
    w.Field(100, ThriftType::kDouble).Raw(std::string(8, '\x11'));
    w.Field(101, ThriftType::kMap).Varint(2).Raw("\x85");  // binary -> i32
    w.Binary("a").I32(1).Binary("b").I32(2);
    w.Field(102, ThriftType::kList).List(ThriftType::kBoolTrue, 3).Raw("\x01\x02\x01");
    w.Field(103, ThriftType::kStruct).BeginStruct();
    w.Field(1, ThriftType::kList)
        .List(ThriftType::kStruct, 1)
        .BeginStruct()
        .Field(7, ThriftType::kI64)
        .I64(-5)
        .Stop();
    w.Field(2, ThriftType::kByte).Raw("\x7f");
    w.Field(3, ThriftType::kI16).I32(300);
    w.Stop();
    w.Field(2, ThriftType::kSet).List(ThriftType::kBinary, 1).Binary("s");
  }));
  ASSERT_TRUE(md.has_value()) << md.error().message();
  EXPECT_EQ(md->schema.size(), 2u);
}

TEST(ParquetThrift, DeepNestingIsAnError) {
  auto md = ParseFileMetaData(Footer([](Writer& w) {
    w.Field(50, ThriftType::kStruct);
    for (int i = 0; i < 100; ++i) w.BeginStruct().Field(1, ThriftType::kStruct);
  }));
  ASSERT_FALSE(md.has_value());
  EXPECT_NE(md.error().message().find("nested deeper than 32"), std::string::npos)
      << md.error().message();
}

TEST(ParquetThrift, AListLongerThanItsDataIsAnError) {
  // A billion schema elements in a few bytes: refused before any is reserved.
  Writer w;
  w.BeginStruct().Field(2, ThriftType::kList).List(ThriftType::kStruct, 1u << 30);
  auto md = ParseFileMetaData(w.str());
  ASSERT_FALSE(md.has_value());
  EXPECT_NE(md.error().message().find("longer than its data"), std::string::npos)
      << md.error().message();
}

TEST(ParquetThrift, OverlongVarintsAndTruncationsAreErrors) {
  Writer w;
  w.BeginStruct().Field(3, ThriftType::kI64).Raw(std::string(11, '\xff'));
  auto md = ParseFileMetaData(w.str());
  ASSERT_FALSE(md.has_value());
  EXPECT_NE(md.error().message().find("varint longer than 10 bytes"), std::string::npos)
      << md.error().message();
  const std::string full = Footer([](Writer&) {});
  for (size_t n = 0; n < full.size(); ++n) {
    auto cut = ParseFileMetaData(full.substr(0, n));
    EXPECT_FALSE(cut.has_value()) << n;
  }
}

TEST(ParquetEncoding, RleBitPackedHybrid) {
  // A run of 5 threes, then one bit-packed group of 8 values 0..7 (width 3).
  std::string data = "\x0a\x03";
  data += "\x03";  // one group of 8, bit-packed
  data += std::string("\x88\xc6\xfa", 3);
  RleDecoder dec(data, 3);
  std::vector<uint32_t> out(13);
  ASSERT_TRUE(dec.Decode(out.data(), out.size()).has_value());
  EXPECT_EQ(out, (std::vector<uint32_t>{3, 3, 3, 3, 3, 0, 1, 2, 3, 4, 5, 6, 7}));
  // Asking for more values than the data holds.
  RleDecoder short_dec(data, 3);
  std::vector<uint32_t> more(14);
  auto s = short_dec.Decode(more.data(), more.size());
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("ends before its values"), std::string::npos)
      << s.error().message();
}

TEST(ParquetEncoding, RleBitWidthOneInAnyPieces) {
  // Width 1 (definition levels, booleans) is decoded a byte at a time; the
  // values must be the same whatever pieces they are asked for in, aligned
  // on a byte or not, across a bit-packed run, an RLE run and another
  // bit-packed run cut short by the data's end.
  std::vector<uint32_t> want;
  std::string data;
  std::mt19937 rng(7);
  auto packed = [&](size_t groups, size_t bytes) {
    data += static_cast<char>((groups << 1) | 1);
    for (size_t g = 0; g < bytes; ++g) {
      const auto b = static_cast<uint8_t>(rng());
      data += static_cast<char>(b);
      for (int k = 0; k < 8; ++k) want.push_back((b >> k) & 1U);
    }
  };
  packed(9, 9);
  data += "";  // an RLE run: seven ones
  want.insert(want.end(), 7, 1);
  packed(5, 4);  // says 5 groups, holds 4 (a writer counting padding)
  for (size_t piece : {1, 3, 7, 8, 13, 64, 200}) {
    RleDecoder dec(data, 1);
    std::vector<uint32_t> got(want.size());
    for (size_t at = 0; at < got.size(); at += piece) {
      ASSERT_TRUE(dec.Decode(got.data() + at, std::min(piece, got.size() - at)).has_value())
          << piece << " at " << at;
    }
    EXPECT_EQ(got, want) << "pieces of " << piece;
    uint32_t past = 0;
    EXPECT_FALSE(dec.Decode(&past, 1).has_value()) << "past the end, pieces of " << piece;
  }
}

TEST(ParquetEncoding, BitPackedIndicesOfEveryWidth) {
  // Dictionary indices: each width from 2 to 32, a bit-packed run long
  // enough for the word-at-a-time path and ending at the data's end (the
  // last values read bit by bit), in pieces of several sizes.
  std::mt19937 rng(11);
  for (int width = 2; width <= 32; ++width) {
    const size_t groups = 40;
    std::vector<uint32_t> want(groups * 8);
    std::string packed(groups * static_cast<size_t>(width), '\0');
    uint64_t bit = 0;
    for (uint32_t& v : want) {
      v = static_cast<uint32_t>(rng()) & static_cast<uint32_t>((uint64_t{1} << width) - 1);
      for (int b = 0; b < width; ++b, ++bit) {
        if ((v >> b) & 1) packed[bit / 8] = static_cast<char>(packed[bit / 8] | (1 << (bit % 8)));
      }
    }
    const std::string data = std::string(1, static_cast<char>((groups << 1) | 1)) + packed;
    for (size_t piece : {1, 5, 8, 77, 320}) {
      RleDecoder dec(data, width);
      std::vector<uint32_t> got(want.size());
      for (size_t at = 0; at < got.size(); at += piece) {
        ASSERT_TRUE(dec.Decode(got.data() + at, std::min(piece, got.size() - at)).has_value());
      }
      EXPECT_EQ(got, want) << "width " << width << ", pieces of " << piece;
    }
  }
}

TEST(ParquetEncoding, DeltaBinaryPacked) {
  // The format's example: 1, 2, 3, 4, 5 (min delta 1, all widths 0).
  Writer w;
  w.Varint(128).Varint(4).Varint(5).Varint(2);  // block, miniblocks, count, zigzag(1)
  w.Varint(2).Raw(std::string(4, '\0'));        // zigzag(min delta 1), widths
  std::vector<int64_t> out(5);
  size_t consumed = 0;
  ASSERT_TRUE(DecodeDeltaBinaryPacked(w.str(), out.data(), out.size(), &consumed).has_value());
  EXPECT_EQ(out, (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(consumed, w.str().size());

  Writer bad;
  bad.Varint(100).Varint(4).Varint(5).Varint(2);
  auto s = DecodeDeltaBinaryPacked(bad.str(), out.data(), out.size(), &consumed);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("impossible block"), std::string::npos) << s.error().message();

  // A header claiming 2^40 values over all-zero-width blocks is only
  // counted, not decoded value by value; it runs out of blocks quickly.
  Writer many;
  many.Varint(128)
      .Varint(4)
      .Varint(uint64_t{1} << 40)
      .Varint(0)
      .Varint(0)
      .Raw(std::string(4, '\0'));
  s = DecodeDeltaBinaryPacked(many.str(), out.data(), out.size(), &consumed);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("truncated varint"), std::string::npos) << s.error().message();
}

}  // namespace
}  // namespace lote::parquet
