// lote's Parquet reader (parquet/parquet_file.h) on any file: a no-code
// job's input is whatever the user's datastore holds. Input: a whole
// Parquet file. The same bytes also go straight to the footer parser, the
// page header parser and the value decoders (RLE/bit-packed hybrid at the
// bit width the first byte gives, DELTA_BINARY_PACKED), so that those are
// fuzzed beneath the checks the file reader makes before calling them.
//
// Invariants: nothing crashes, reads outside the input or allocates past
// the row counts the reader was asked for (ASan, libFuzzer's rss limit);
// every error of a file names the file; reading a row group twice gives the
// same values, and as floats the same nulls as as doubles.
//
// Seeds: fuzz/corpus/parquet, small files DuckDB wrote
// (node tests/parquet_tool/write_fixtures.mjs <dir> --seeds fuzz/corpus/parquet),
// every codec and page version, and the nested files the reader refuses.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "parquet/encoding.h"
#include "parquet/metadata.h"
#include "parquet/parquet_file.h"

using lote::fuzz::FuzzCheck;
namespace pq = lote::parquet;

namespace {

// Rows times columns the target decodes at most per row group: the footer
// may claim any row count, and the caller of the reader sizes the output.
constexpr size_t kMaxCells = size_t{1} << 20;

void CheckError(const pq::ParquetFile& f, const lote::Error& e) {
  FuzzCheck(e.message().starts_with(f.name() + ": "),
            "an error that does not name the file: " + e.message());
}

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

void ReadFile(std::string_view bytes) {
  auto file = pq::ParquetFile::FromBytes("fuzz.parquet", bytes);
  if (!file) {
    FuzzCheck(file.error().message().starts_with("fuzz.parquet: "),
              "an Open error that does not name the file: " + file.error().message());
    return;
  }
  const pq::ParquetFile& f = **file;
  for (size_t g = 0; g < f.row_groups().size(); ++g) {
    const auto rows = static_cast<size_t>(f.row_groups()[g].rows);
    if (rows * std::max<size_t>(f.columns().size(), 1) > kMaxCells) continue;
    for (size_t c = 0; c < f.columns().size(); ++c) {
      const pq::ColumnInfo& info = f.columns()[c];
      if (info.kind == pq::ColumnKind::kString) {
        auto s = f.ReadStrings(g, c);
        if (!s) CheckError(f, s.error());
        auto again = f.ReadStrings(g, c);
        FuzzCheck(s.has_value() == again.has_value() && (!s || *s == *again),
                  "strings differ on a second read");
        continue;
      }
      const size_t idx[] = {c};
      std::vector<double> d(rows), d2(rows);
      std::vector<float> fl(rows);
      auto s = f.ReadDoubles(g, idx, d.data(), 1);
      auto s2 = f.ReadDoubles(g, idx, d2.data(), 1);
      auto sf = f.ReadFloats(g, idx, fl.data(), 1);
      FuzzCheck(s.has_value() == s2.has_value() && s.has_value() == sf.has_value(),
                "a column reads once and fails another time");
      if (!s) {
        CheckError(f, s.error());
        continue;
      }
      FuzzCheck(SameBits(d, d2), "doubles differ on a second read");
      for (size_t r = 0; r < rows; ++r) {
        FuzzCheck(std::isnan(d[r]) == std::isnan(fl[r]),
                  "a null as a double is a value as a float, or back");
      }
    }
  }
}

void Decoders(std::string_view bytes) {
  size_t header_size = 0;
  auto h = pq::ParsePageHeader(bytes, &header_size);
  if (h) FuzzCheck(header_size <= bytes.size(), "a page header longer than its bytes");
  auto md = pq::ParseFileMetaData(bytes);
  if (bytes.empty()) return;
  const int width = static_cast<uint8_t>(bytes[0]) % 34;  // 33: past the limit, refused
  std::vector<uint32_t> rle(1024);
  pq::RleDecoder dec(bytes.substr(1), width);
  auto rs = dec.Decode(rle.data(), rle.size());
  if (rs && width < 32) {
    for (uint32_t v : rle) {
      // A bit-packed value fits its width; an RLE run's value is a whole
      // number of bytes (the column reader checks its range).
      FuzzCheck(width == 0 || v < (uint64_t{1} << ((width + 7) / 8 * 8)),
                "an RLE value wider than its bytes");
    }
  }
  std::vector<int64_t> delta(512);
  size_t consumed = 0;
  auto ds = pq::DecodeDeltaBinaryPacked(bytes, delta.data(), delta.size(), &consumed);
  if (ds) FuzzCheck(consumed <= bytes.size(), "DELTA_BINARY_PACKED consumed more than its bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ReadFile(bytes);
  Decoders(bytes);
  return 0;
}
