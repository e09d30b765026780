// Corrupt and hostile Parquet files: each fails with an error naming the
// file (and the row group, column and page where one is at fault) and what
// was wrong; none crashes or reads outside the file (the ASan pass of
// test.sh runs these too).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "parquet/metadata.h"
#include "parquet/parquet_file.h"
#include "parquet_test_util.h"

namespace lote::parquet {
namespace {

using testing::FixtureDir;
using testing::FixtureNames;
using testing::Slurp;

std::string Fixture(const std::string& name) {
  return Slurp(FixtureDir() / (name + ".parquet"));
}

uint32_t FooterLength(const std::string& bytes) {
  uint32_t len;
  std::memcpy(&len, bytes.data() + bytes.size() - 8, 4);
  return len;
}

FileMetaData Footer(const std::string& bytes) {
  uint32_t len = FooterLength(bytes);
  auto md = ParseFileMetaData(std::string_view(bytes).substr(bytes.size() - 8 - len, len));
  LOTE_CHECK(md.has_value());
  return *md;
}

// Reads every column of every row group; the first error, or ok.
Status ReadAll(const ParquetFile& f) {
  for (size_t g = 0; g < f.row_groups().size(); ++g) {
    const auto rows = static_cast<size_t>(f.row_groups()[g].rows);
    for (size_t c = 0; c < f.columns().size(); ++c) {
      if (f.columns()[c].kind == ColumnKind::kString) {
        auto s = f.ReadStrings(g, c);
        if (!s) return s.error();
      } else {
        std::vector<double> out(rows);
        const size_t idx[] = {c};
        LOTE_TRY(f.ReadDoubles(g, idx, out.data(), 1));
      }
    }
  }
  return {};
}

// The error of opening and reading `bytes` (a test failure when it reads).
std::string ErrorOf(const std::string& bytes, const std::string& name = "bad.parquet") {
  auto f = ParquetFile::FromBytes(name, bytes);
  if (!f) return f.error().message();
  Status s = ReadAll(**f);
  if (!s) return s.error().message();
  ADD_FAILURE() << "read without an error";
  return "";
}

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << (haystack)

TEST(ParquetCorrupt, BadMagic) {
  std::string bytes = Fixture("types_snappy_v1");
  bytes.replace(bytes.size() - 4, 4, "PAR2");
  std::string e = ErrorOf(bytes);
  EXPECT_HAS(e, "bad.parquet: not a Parquet file: bad magic");
  EXPECT_HAS(e, "ends with 'PAR2'");
  e = ErrorOf("a,b,c\n1,2,3\n4,5,6\n", "data.csv");
  EXPECT_HAS(e,
             "data.csv: not a Parquet file: bad magic (starts with 'a,b,', ends with '5,6\\x0a'");
  EXPECT_HAS(ErrorOf("PAR1"), "too short");
  EXPECT_HAS(ErrorOf(""), "too short");
}

TEST(ParquetCorrupt, EncryptedFilesAreRefused) {
  std::string bytes = Fixture("types_snappy_v1");
  bytes.replace(bytes.size() - 4, 4, "PARE");
  EXPECT_HAS(ErrorOf(bytes), "encrypted Parquet files are not supported");
}

TEST(ParquetCorrupt, TruncatedFooter) {
  const std::string bytes = Fixture("types_zstd_v1");
  // The file cut short: its tail is no longer the magic.
  EXPECT_HAS(ErrorOf(bytes.substr(0, bytes.size() - 3)), "bad magic");
  // A length word claiming more footer than the file holds.
  std::string longer = bytes;
  uint32_t huge = static_cast<uint32_t>(bytes.size());
  std::memcpy(longer.data() + longer.size() - 8, &huge, 4);
  EXPECT_HAS(ErrorOf(longer), "truncated footer: it says");
  // Half the footer, with a length word that matches what is left.
  const uint32_t len = FooterLength(bytes);
  const size_t start = bytes.size() - 8 - len;
  std::string half = bytes.substr(0, start + len / 2);
  uint32_t half_len = len / 2;
  half.append(reinterpret_cast<const char*>(&half_len), 4);
  half += "PAR1";
  std::string e = ErrorOf(half);
  EXPECT_HAS(e, "bad.parquet: footer:");
  EXPECT_HAS(e, "truncated Thrift data at byte");
}

// Overwrites the compressed body of the first data page of column `col`
// (row group 0) with garbage, keeping its page header.
std::string CorruptFirstPage(std::string bytes, size_t col) {
  FileMetaData md = Footer(bytes);
  const ColumnMetaData& m = *md.row_groups[0].columns[col].meta_data;
  size_t header_size = 0;
  auto h = ParsePageHeader(std::string_view(bytes).substr(static_cast<size_t>(m.data_page_offset)),
                           &header_size);
  LOTE_CHECK(h.has_value());
  size_t body = static_cast<size_t>(m.data_page_offset) + header_size;
  // Past the first bytes (snappy's length, zstd's frame header) so that the
  // stream itself is what breaks.
  for (size_t i = 8; i < static_cast<size_t>(h->compressed_page_size); ++i)
    bytes[body + i] = static_cast<char>(0xA5 ^ i);
  return bytes;
}

TEST(ParquetCorrupt, APageThatDoesNotDecompress) {
  for (const char* codec : {"snappy", "zstd", "gzip"}) {
    SCOPED_TRACE(codec);
    const std::string name = std::string("types_") + codec + "_v1";
    std::string e = ErrorOf(CorruptFirstPage(Fixture(name), 1), name + ".parquet");
    EXPECT_HAS(e, name + ".parquet: row group 0: column 'i64': page 0 at chunk byte 0:");
    EXPECT_TRUE(e.find("does not decompress") != std::string::npos ||
                e.find("decompresses to") != std::string::npos ||
                e.find("ends before") != std::string::npos)
        << e;
  }
}

// Every numeric value of `bytes`, column after column (NaN for null).
std::vector<double> NumbersOf(const std::string& bytes) {
  auto f = ParquetFile::FromBytes("good.parquet", bytes);
  LOTE_CHECK(f.has_value());
  std::vector<double> all;
  for (size_t g = 0; g < (*f)->row_groups().size(); ++g) {
    const auto rows = static_cast<size_t>((*f)->row_groups()[g].rows);
    for (size_t c = 0; c < (*f)->columns().size(); ++c) {
      if ((*f)->columns()[c].kind == ColumnKind::kString) continue;
      std::vector<double> out(rows);
      const size_t idx[] = {c};
      LOTE_CHECK((*f)->ReadDoubles(g, idx, out.data(), 1).has_value());
      all.insert(all.end(), out.begin(), out.end());
    }
  }
  return all;
}

TEST(ParquetCorrupt, AFailedPageLeavesTheThreadsBuffersSound) {
  // The decompression context and the page buffer are kept per thread: a
  // page that fails to decompress must leave them fit for the next file.
  for (const char* codec : {"snappy", "zstd", "gzip"}) {
    SCOPED_TRACE(codec);
    const std::string name = std::string("types_") + codec + "_v1";
    const std::string good = Fixture(name);
    const std::vector<double> before = NumbersOf(good);
    ErrorOf(CorruptFirstPage(good, 1), name + ".parquet");
    const std::vector<double> after = NumbersOf(good);
    ASSERT_EQ(before.size(), after.size());
    EXPECT_EQ(0, std::memcmp(before.data(), after.data(), before.size() * sizeof(double)));
  }
}

TEST(ParquetCorrupt, AColumnChunkPastTheEnd) {
  // The data cut in half under an intact footer: the later column chunks
  // point past where the data now ends.
  const std::string bytes = Fixture("types_uncompressed_v1");
  const uint32_t len = FooterLength(bytes);
  const size_t start = bytes.size() - 8 - len;
  std::string cut = bytes.substr(0, start / 2) + bytes.substr(start);
  std::string e = ErrorOf(cut);
  EXPECT_HAS(e, "bad.parquet: row group 0: column '");
  EXPECT_HAS(e, "column chunk at byte ");
  EXPECT_HAS(e, "past the end of the data");
}

// Rewrites the i32 varint of page header field `field` (1: type, 2:
// uncompressed size, 3: compressed size) in place: DuckDB writes them first,
// in order, each after a one-byte field header.
void PatchPageHeader(std::string& bytes, size_t offset, int field, int32_t value) {
  size_t pos = offset;
  for (int f = 1; f <= 3; ++f) {
    LOTE_CHECK(static_cast<uint8_t>(bytes[pos]) == 0x15);  // delta 1, i32
    ++pos;
    size_t start = pos;
    while (static_cast<uint8_t>(bytes[pos]) & 0x80) ++pos;
    ++pos;
    if (f == field) {
      // The same number of bytes, padded with continuation bits if need be.
      uint64_t zz = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 31);
      for (size_t i = start; i < pos; ++i) {
        uint8_t b = zz & 0x7f;
        zz >>= 7;
        bytes[i] = static_cast<char>(i + 1 < pos ? (b | 0x80) : b);
      }
      LOTE_CHECK(zz == 0);
      return;
    }
  }
}

TEST(ParquetCorrupt, APageHeaderThatLiesAboutSizes) {
  const std::string bytes = Fixture("types_snappy_v1");
  const FileMetaData md = Footer(bytes);
  const ColumnMetaData& m = *md.row_groups[0].columns[3].meta_data;  // f64, PLAIN
  const auto at = static_cast<size_t>(m.data_page_offset);
  size_t header_size = 0;
  auto h = ParsePageHeader(std::string_view(bytes).substr(at), &header_size);
  ASSERT_TRUE(h.has_value());

  std::string bigger = bytes;  // a compressed size past the chunk's end
  PatchPageHeader(bigger, at, 3, h->compressed_page_size + 5000);
  std::string e = ErrorOf(bigger);
  EXPECT_HAS(e, "row group 0: column 'f64': page 0 at chunk byte 0: page of");
  EXPECT_HAS(e, "past the column chunk's end");

  std::string wrong = bytes;  // an uncompressed size that is not what SNAPPY gives
  PatchPageHeader(wrong, at, 2, h->uncompressed_page_size + 8);
  EXPECT_HAS(ErrorOf(wrong), "SNAPPY data decompresses to");

  std::string negative = bytes;
  PatchPageHeader(negative, at, 2, -1);
  EXPECT_HAS(ErrorOf(negative), "page header gives a negative size");
}

TEST(ParquetCorrupt, NestedColumnsAreRefusedByName) {
  auto s = ParquetFile::Open(FixtureDir() / "nested_struct.parquet");
  ASSERT_FALSE(s.has_value());
  EXPECT_HAS(s.error().message(), "nested_struct.parquet: column 'point' is nested");
  auto l = ParquetFile::Open(FixtureDir() / "nested_list.parquet");
  ASSERT_FALSE(l.has_value());
  EXPECT_HAS(l.error().message(), "nested_list.parquet: column 'xs' is nested");
}

void ExpectReadsOrSaysWhy(const ParquetFile& f) {
  Status s = ReadAll(f);
  EXPECT_TRUE(s.has_value() || s.error().message().starts_with(f.name() + ": "))
      << s.error().message();
}

// Every prefix of a file, and the file with bytes flipped all over: an
// error or a read, never a crash or a read outside the bytes (ASan).
TEST(ParquetCorrupt, TruncationsAndFlippedBytesNeverCrash) {
  for (const std::string& name : FixtureNames()) {
    if (name.find("_v2") == std::string::npos && name.find("snappy") == std::string::npos) continue;
    const std::string bytes = Fixture(name);
    for (size_t n = 0; n < bytes.size(); n += 997) {
      std::string cut = bytes.substr(0, n);
      auto f = ParquetFile::FromBytes(name, cut);
      // Either outcome is fine, with a message when it fails; not crashing is the test.
      if (f) ExpectReadsOrSaysWhy(**f);
    }
    uint64_t x = 88172645463325252ull;
    for (int round = 0; round < 300; ++round) {
      std::string flipped = bytes;
      for (int k = 0; k < 4; ++k) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        flipped[x % flipped.size()] ^= static_cast<char>(1 + (x >> 32) % 255);
      }
      auto f = ParquetFile::FromBytes(name, flipped);
      if (f) ExpectReadsOrSaysWhy(**f);
    }
  }
}

}  // namespace
}  // namespace lote::parquet
