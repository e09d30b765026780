// The Parquet writer (src/parquet/writer.h), read back by our reader.
// DuckDB reading the writer's files is tested end to end
// (tests/e2e/test_parquet_output.py).
#include "parquet/writer.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "parquet/parquet_file.h"

namespace lote::parquet {
namespace {

struct Table {
  std::vector<std::optional<int64_t>> ints;
  std::vector<std::optional<double>> doubles;
  std::vector<std::optional<bool>> bools;
  std::vector<std::optional<std::string>> strings;
};

Table MakeTable(size_t rows, unsigned seed, size_t string_len = 12) {
  std::mt19937_64 rng(seed);
  Table t;
  for (size_t r = 0; r < rows; ++r) {
    auto null = [&] { return rng() % 7 == 0; };
    t.ints.push_back(null() ? std::nullopt : std::optional<int64_t>(static_cast<int64_t>(rng() % 2000000) - 1000000));
    t.doubles.push_back(null() ? std::nullopt : std::optional<double>(std::ldexp(static_cast<double>(rng() % 1000003), -7) - 3.25));
    t.bools.push_back(null() ? std::nullopt : std::optional<bool>(rng() % 2 == 0));
    if (null()) {
      t.strings.emplace_back();
    } else if (r % 3 == 0) {
      t.strings.emplace_back("file-" + std::to_string(r % 4) + ".parquet");  // repeated
    } else {
      std::string s(rng() % (string_len + 1), 'x');
      for (char& c : s) c = static_cast<char>('a' + rng() % 26);
      t.strings.emplace_back("ü" + s);
    }
  }
  return t;
}

Result<std::string> Write(const Table& t, WriterOptions o) {
  std::string out;
  auto w = Writer::Create({{"i", WriterType::kInt64}, {"d", WriterType::kDouble}, {"b", WriterType::kBoolean},
                           {"s", WriterType::kString}},
                          o, [&](std::string_view bytes) -> Status {
                            out.append(bytes);
                            return {};
                          });
  if (!w) return w.error();
  for (size_t r = 0; r < t.ints.size(); ++r) {
    t.ints[r] ? (*w)->Int64(*t.ints[r]) : (*w)->Null();
    t.doubles[r] ? (*w)->Double(*t.doubles[r]) : (*w)->Null();
    t.bools[r] ? (*w)->Bool(*t.bools[r]) : (*w)->Null();
    t.strings[r] ? (*w)->String(*t.strings[r]) : (*w)->Null();
    LOTE_TRY((*w)->EndRow());
  }
  LOTE_TRY((*w)->Finish());
  return out;
}

void ExpectReadsBack(const Table& t, const std::string& bytes, size_t groups) {
  auto file = ParquetFile::FromBytes("out.parquet", bytes);
  ASSERT_TRUE(file) << file.error().message();
  const ParquetFile& f = **file;
  ASSERT_EQ(f.num_rows(), static_cast<int64_t>(t.ints.size()));
  ASSERT_EQ(f.row_groups().size(), groups);
  ASSERT_EQ(f.columns().size(), 4u);
  EXPECT_EQ(f.columns()[0].TypeName(), "INT64");
  EXPECT_EQ(f.columns()[1].TypeName(), "DOUBLE");
  EXPECT_EQ(f.columns()[2].TypeName(), "BOOLEAN");
  EXPECT_EQ(f.columns()[3].TypeName(), "STRING");
  for (size_t g = 0; g < f.row_groups().size(); ++g) {
    const auto& rg = f.row_groups()[g];
    const auto first = static_cast<size_t>(rg.first_row);
    std::vector<double> m(static_cast<size_t>(rg.rows) * 3);
    const std::vector<size_t> cols = {0, 1, 2};
    ASSERT_TRUE(f.ReadDoubles(g, cols, m.data(), 3)) << "row group " << g;
    auto strings = f.ReadStrings(g, 3);
    ASSERT_TRUE(strings) << strings.error().message();
    for (size_t r = 0; r < static_cast<size_t>(rg.rows); ++r) {
      const size_t row = first + r;
      SCOPED_TRACE("row " + std::to_string(row));
      if (t.ints[row]) EXPECT_EQ(m[r * 3], static_cast<double>(*t.ints[row]));
      else EXPECT_TRUE(std::isnan(m[r * 3]));
      if (t.doubles[row]) EXPECT_EQ(m[r * 3 + 1], *t.doubles[row]);
      else EXPECT_TRUE(std::isnan(m[r * 3 + 1]));
      if (t.bools[row]) EXPECT_EQ(m[r * 3 + 2], *t.bools[row] ? 1.0 : 0.0);
      else EXPECT_TRUE(std::isnan(m[r * 3 + 2]));
      EXPECT_EQ((*strings)[r], t.strings[row]);
    }
  }
}

TEST(ParquetWriter, RoundTripsEveryTypeWithNullsInBothCodecs) {
  const Table t = MakeTable(5000, 1);
  for (Codec codec : {Codec::kSnappy, Codec::kZstd, Codec::kUncompressed}) {
    SCOPED_TRACE(std::string(CodecName(static_cast<int32_t>(codec))));
    auto bytes = Write(t, {.codec = codec, .row_group_rows = 2048});
    ASSERT_TRUE(bytes) << bytes.error().message();
    ExpectReadsBack(t, *bytes, 3);
  }
}

TEST(ParquetWriter, ManyRowGroupsAndSmallPages) {
  const Table t = MakeTable(3001, 2);
  auto bytes = Write(t, {.codec = Codec::kZstd, .row_group_rows = 100, .page_bytes = 256});
  ASSERT_TRUE(bytes) << bytes.error().message();
  ExpectReadsBack(t, *bytes, 31);
}

TEST(ParquetWriter, LargeStringsAreWrittenPlain) {
  Table t = MakeTable(40, 3, 1 << 20);  // strings up to 1 MiB: pages of one value each
  auto bytes = Write(t, {.codec = Codec::kSnappy, .row_group_rows = 16});
  ASSERT_TRUE(bytes) << bytes.error().message();
  ExpectReadsBack(t, *bytes, 3);
}

TEST(ParquetWriter, AllNullsAndNoRows) {
  Table t;
  for (int r = 0; r < 100; ++r) {
    t.ints.emplace_back();
    t.doubles.emplace_back();
    t.bools.emplace_back();
    t.strings.emplace_back();
  }
  auto bytes = Write(t, {});
  ASSERT_TRUE(bytes) << bytes.error().message();
  ExpectReadsBack(t, *bytes, 1);

  auto empty = Write(Table{}, {});
  ASSERT_TRUE(empty) << empty.error().message();
  ExpectReadsBack(Table{}, *empty, 0);
}

TEST(ParquetWriter, AValueOfTheWrongTypeOrAShortRowIsAnError) {
  std::string out;
  auto sink = [&](std::string_view b) -> Status {
    out.append(b);
    return {};
  };
  auto w = Writer::Create({{"n", WriterType::kInt64}, {"s", WriterType::kString}}, {}, sink);
  ASSERT_TRUE(w);
  (*w)->Int64(1);
  Status st = (*w)->EndRow();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "row 0 has 1 values for 2 columns");

  auto w2 = Writer::Create({{"n", WriterType::kInt64}}, {}, sink);
  ASSERT_TRUE(w2);
  (*w2)->String("x");
  st = (*w2)->EndRow();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "column 'n' is INT64, given a STRING");
  EXPECT_FALSE((*w2)->Finish());

  EXPECT_FALSE(Writer::Create({}, {}, sink));
  auto gzip = Writer::Create({{"n", WriterType::kInt64}}, {.codec = Codec::kGzip}, sink);
  ASSERT_FALSE(gzip);
  EXPECT_EQ(gzip.error().message(), "the Parquet writer compresses with SNAPPY or ZSTD, not GZIP");
}

TEST(ParquetWriter, ASinkErrorIsReturnedAndKept) {
  int calls = 0;
  auto w = Writer::Create({{"n", WriterType::kInt64}}, {.codec = Codec::kZstd, .row_group_rows = 1},
                          [&](std::string_view) -> Status {
                            if (++calls > 1) return IoError("disk full");
                            return {};
                          });
  ASSERT_TRUE(w);
  (*w)->Int64(5);
  Status st = (*w)->EndRow();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "disk full");
  (*w)->Int64(6);
  EXPECT_FALSE((*w)->EndRow());
  EXPECT_FALSE((*w)->Finish());
}

// DuckDB (tests/parquet_tool/read.mjs) reads every value the writer wrote,
// in both codecs, dictionary and plain strings, over several row groups.
TEST(ParquetWriter, DuckDbReadsWhatItWrites) {
  const std::filesystem::path tool = std::filesystem::path(LOTE_SOURCE_DIR) / "tests/parquet_tool";
  if (std::system("command -v node >/dev/null 2>&1") != 0 || !std::filesystem::exists(tool / "node_modules")) {
    GTEST_SKIP() << "node or tests/parquet_tool/node_modules missing (./setup.sh installs them)";
  }
  const Table t = MakeTable(3000, 4);
  for (Codec codec : {Codec::kSnappy, Codec::kZstd}) {
    auto bytes = Write(t, {.codec = codec, .row_group_rows = 1000, .page_bytes = 4096});
    ASSERT_TRUE(bytes) << bytes.error().message();
    const std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("lote_writer_" + std::to_string(::getpid()) + ".parquet");
    std::ofstream(path, std::ios::binary) << *bytes;
    const std::string cmd = "node '" + (tool / "read.mjs").string() + "' '" + path.string() + "'";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string text;
    char buf[65536];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) text.append(buf, n);
    ASSERT_EQ(::pclose(p), 0) << cmd;
    std::filesystem::remove(path);
    const auto doc = nlohmann::json::parse(text);
    ASSERT_EQ(doc["columns"].size(), 4u);
    EXPECT_EQ(doc["columns"][0]["type"], "BIGINT");
    EXPECT_EQ(doc["columns"][1]["type"], "DOUBLE");
    EXPECT_EQ(doc["columns"][2]["type"], "BOOLEAN");
    EXPECT_EQ(doc["columns"][3]["type"], "VARCHAR");
    const auto& rows = doc["rows"];
    ASSERT_EQ(rows.size(), t.ints.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      SCOPED_TRACE("row " + std::to_string(r));
      const auto& row = rows[r];
      if (t.ints[r]) EXPECT_EQ(row[0].get<int64_t>(), *t.ints[r]); else EXPECT_TRUE(row[0].is_null());
      if (t.doubles[r]) EXPECT_EQ(row[1].get<double>(), *t.doubles[r]); else EXPECT_TRUE(row[1].is_null());
      if (t.bools[r]) EXPECT_EQ(row[2].get<bool>(), *t.bools[r]); else EXPECT_TRUE(row[2].is_null());
      if (t.strings[r]) EXPECT_EQ(row[3].get<std::string>(), *t.strings[r]); else EXPECT_TRUE(row[3].is_null());
      if (HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace lote::parquet
