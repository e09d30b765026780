// A Parquet file's rows as CSV (parquet/csv_export.h), what the Python
// runner reads through `lote parquet decode`.
#include "parquet/csv_export.h"

#include <gtest/gtest.h>

#include <string>

#include "parquet/writer.h"

namespace lote::parquet {
namespace {

Result<std::string> Export(const std::string& bytes, CsvExportOptions o) {
  auto file = ParquetFile::FromBytes("t.parquet", bytes);
  if (!file) return file.error();
  std::string out;
  LOTE_TRY(ExportCsv(**file, o, [&](std::string_view b) -> Status {
    out.append(b);
    return {};
  }));
  return out;
}

std::string Table() {
  std::string bytes;
  auto w = Writer::Create({{"n", WriterType::kInt64}, {"x", WriterType::kDouble}, {"ok", WriterType::kBoolean},
                           {"s", WriterType::kString}},
                          {.codec = Codec::kSnappy, .row_group_rows = 2}, [&](std::string_view b) -> Status {
                            bytes.append(b);
                            return {};
                          });
  EXPECT_TRUE(w);
  (*w)->Int64(-9007199254740993);  // beyond 2^53: printed from the double
  (*w)->Double(0.1);
  (*w)->Bool(true);
  (*w)->String("a,\"b\"\nc");
  EXPECT_TRUE((*w)->EndRow());
  (*w)->Null();
  (*w)->Null();
  (*w)->Null();
  (*w)->String("");
  EXPECT_TRUE((*w)->EndRow());
  (*w)->Int64(7);
  (*w)->Double(-1e300);
  (*w)->Bool(false);
  (*w)->Null();
  EXPECT_TRUE((*w)->EndRow());
  EXPECT_TRUE((*w)->Finish());
  return bytes;
}

TEST(ParquetCsvExport, EveryTypeQuotingAndNulls) {
  auto csv = Export(Table(), {});
  ASSERT_TRUE(csv) << csv.error().message();
  EXPECT_EQ(*csv,
            "n,x,ok,s\n"
            "-9007199254740992,0.1,true,\"a,\"\"b\"\"\nc\"\n"
            ",,,\"\"\n"
            "7,-1e+300,false,\n");
}

TEST(ParquetCsvExport, RowGroupsColumnsAndRowNumbers) {
  auto csv = Export(Table(), {.first_row_group = 1, .row_groups = 1, .columns = {"s", "n"},
                              .row_number_column = "__row"});
  ASSERT_TRUE(csv) << csv.error().message();
  EXPECT_EQ(*csv, "__row,s,n\n2,,7\n");
}

TEST(ParquetCsvExport, ErrorsNameTheFile) {
  auto past = Export(Table(), {.first_row_group = 1, .row_groups = 2});
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().message(), "t.parquet: row groups 1..2 asked for, but the file has 2");
  auto missing = Export(Table(), {.columns = {"n", "nope"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "t.parquet: missing column 'nope'; the file's columns: n, x, ok, s");
}

}  // namespace
}  // namespace lote::parquet
