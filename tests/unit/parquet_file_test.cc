// The Parquet reader against files DuckDB wrote (tests/data/parquet, from
// tests/parquet_tool/write_fixtures.mjs): every codec, data page v1 and v2,
// dictionary and plain columns, nulls in every column, two row groups, and
// every value compared with DuckDB's own reading of the file.
#include "parquet/parquet_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "parquet_test_util.h"

namespace lote::parquet {
namespace {

using testing::ExpectSameValues;
using testing::FixtureDir;
using testing::FixtureNames;
using testing::Slurp;

nlohmann::json Expected(const std::filesystem::path& dir) {
  return nlohmann::json::parse(Slurp(dir / "types.json"));
}

TEST(ParquetFile, ReadsEveryValueOfEveryCodecAndPageVersion) {
  const nlohmann::json expected = Expected(FixtureDir());
  for (const std::string& name : FixtureNames()) {
    auto file = ParquetFile::Open(FixtureDir() / (name + ".parquet"));
    ASSERT_TRUE(file.has_value()) << file.error().message();
    ExpectSameValues(**file, expected);
    if (HasFailure()) return;
  }
}

TEST(ParquetFile, ListsColumnsAndRowGroups) {
  auto file = ParquetFile::Open(FixtureDir() / "types_zstd_v1.parquet");
  ASSERT_TRUE(file.has_value()) << file.error().message();
  const auto& cols = (*file)->columns();
  ASSERT_EQ(cols.size(), 12u);
  EXPECT_EQ(cols[0].name, "i32");
  EXPECT_EQ(cols[0].TypeName(), "INT32");
  EXPECT_EQ(cols[0].kind, ColumnKind::kInteger);
  EXPECT_TRUE(cols[0].nullable);
  EXPECT_EQ(cols[1].TypeName(), "INT64");
  EXPECT_EQ(cols[2].kind, ColumnKind::kFloat);
  EXPECT_EQ(cols[4].kind, ColumnKind::kBoolean);
  EXPECT_EQ(cols[5].TypeName(), "STRING");
  EXPECT_EQ(cols[8].TypeName(), "DECIMAL(9,2)");
  EXPECT_EQ(cols[9].TypeName(), "DECIMAL(18,4)");
  EXPECT_EQ(cols[10].TypeName(), "DECIMAL(30,6)");
  EXPECT_EQ(cols[10].physical, PhysicalType::kFixedLenByteArray);
  const auto& groups = (*file)->row_groups();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].rows, 2048);
  EXPECT_EQ(groups[0].first_row, 0);
  EXPECT_EQ(groups[1].rows, 452);
  EXPECT_EQ(groups[1].first_row, 2048);
  EXPECT_GT(groups[0].compressed_bytes, 0);
  EXPECT_GT(groups[0].byte_size, 0);
  EXPECT_EQ((*file)->num_rows(), 2500);
}

TEST(ParquetFile, DecodesChosenColumnsIntoARowMajorMatrix) {
  auto file = ParquetFile::Open(FixtureDir() / "types_snappy_v2.parquet");
  ASSERT_TRUE(file.has_value()) << file.error().message();
  const std::vector<std::string> names = {"id", "f64", "i32_dict", "dec9"};  // not in file order
  auto idx = (*file)->NumericColumns(names);
  ASSERT_TRUE(idx.has_value()) << idx.error().message();
  const nlohmann::json expected = Expected(FixtureDir());
  const auto& rg = (*file)->row_groups()[1];
  std::vector<float> m(static_cast<size_t>(rg.rows) * names.size());
  Status s = (*file)->ReadFloats(1, *idx, m.data(), names.size());
  ASSERT_TRUE(s.has_value()) << s.error().message();
  for (size_t r = 0; r < static_cast<size_t>(rg.rows); ++r) {
    const size_t row = static_cast<size_t>(rg.first_row) + r;
    EXPECT_EQ(m[r * 4 + 0], static_cast<float>(row));  // id
    const auto& i32 = expected["values"]["i32_dict"][row];
    if (i32.is_null()) {
      EXPECT_TRUE(std::isnan(m[r * 4 + 2]));
    } else {
      EXPECT_EQ(m[r * 4 + 2], i32.get<float>());
    }
  }
}

TEST(ParquetFile, AMissingColumnIsAnErrorNamingFileAndColumn) {
  auto file = ParquetFile::Open(FixtureDir() / "types_gzip_v1.parquet");
  ASSERT_TRUE(file.has_value()) << file.error().message();
  const std::vector<std::string> names = {"i32", "fare"};
  auto idx = (*file)->NumericColumns(names);
  ASSERT_FALSE(idx.has_value());
  EXPECT_NE(idx.error().message().find("types_gzip_v1.parquet"), std::string::npos)
      << idx.error().message();
  EXPECT_NE(idx.error().message().find("no column 'fare'"), std::string::npos)
      << idx.error().message();
}

TEST(ParquetFile, AStringColumnCannotBecomeANumber) {
  auto file = ParquetFile::Open(FixtureDir() / "types_gzip_v1.parquet");
  ASSERT_TRUE(file.has_value()) << file.error().message();
  const std::vector<std::string> names = {"s_dict"};
  auto idx = (*file)->NumericColumns(names);
  ASSERT_FALSE(idx.has_value());
  EXPECT_NE(
      idx.error().message().find("column 's_dict' is STRING, which cannot be cast to a number"),
      std::string::npos)
      << idx.error().message();
  std::vector<float> m(2048);
  const size_t col[] = {5};
  Status s = (*file)->ReadFloats(0, col, m.data(), 1);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("row group 0: column 's_dict': STRING cannot be cast"),
            std::string::npos)
      << s.error().message();
}

TEST(ParquetFile, AMissingFileIsAnIoError) {
  auto file = ParquetFile::Open("/nonexistent/x.parquet");
  ASSERT_FALSE(file.has_value());
  EXPECT_EQ(file.error().code(), ErrorCode::kIo);
  EXPECT_NE(file.error().message().find("/nonexistent/x.parquet"), std::string::npos);
}

// Regenerates the fixtures with DuckDB (node and tests/parquet_tool's
// node_modules, which setup.sh installs) and reads them as the committed
// ones: the committed files stay what the pinned DuckDB writes, and the
// reader keeps up with it.
TEST(ParquetFile, ReadsFreshlyRegeneratedDuckDbFiles) {
  const std::filesystem::path tool = std::filesystem::path(LOTE_SOURCE_DIR) / "tests/parquet_tool";
  if (std::system("command -v node >/dev/null 2>&1") != 0 ||
      !std::filesystem::exists(tool / "node_modules")) {
    GTEST_SKIP() << "node or tests/parquet_tool/node_modules missing (./setup.sh installs them)";
  }
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("lote_parquet_regen_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const std::string cmd =
      "node '" + (tool / "write_fixtures.mjs").string() + "' '" + dir.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const nlohmann::json expected = Expected(dir);
  EXPECT_EQ(expected, Expected(FixtureDir()))
      << "DuckDB now writes other values than the committed types.json";
  for (const std::string& name : FixtureNames()) {
    auto file = ParquetFile::Open(dir / (name + ".parquet"));
    ASSERT_TRUE(file.has_value()) << file.error().message();
    ExpectSameValues(**file, expected);
    if (HasFailure()) break;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lote::parquet
