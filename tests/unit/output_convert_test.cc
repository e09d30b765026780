// Converting an assembled CSV output into Parquet or JSON Lines
// (src/jobs/output_convert.h).
#include "jobs/output_convert.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <string>

#include "parquet/parquet_file.h"

namespace lote::jobs {
namespace {

// A memfd holding `text`.
int MemFile(const std::string& text) {
  int fd = ::memfd_create("csv", MFD_CLOEXEC);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  return fd;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (off_t off = 0;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return out;
}

Result<std::string> Convert(const std::string& csv, OutputFormat f, ConvertOptions o = {}) {
  int in = MemFile(csv), out = MemFile("");
  auto rows = ConvertCsvOutput(in, out, f, o);
  std::string text = ReadAll(out);
  ::close(in);
  ::close(out);
  if (!rows) return rows.error();
  return text;
}

const char* kCsv =
    "file,row,prediction,label,ok\n"
    "a.csv,0,1.5,cat,True\n"
    "a.csv,1,2,\"dog, \"\"big\"\"\",False\n"
    "b.csv,@17,nan,,True\n"
    "b.csv,@40,-3e+20,\"\",\n";

TEST(OutputConvert, ParquetColumnsTakeTheNarrowestTypeAndNulls) {
  auto bytes = Convert(kCsv, OutputFormat::kParquet, {.row_group_rows = 3});
  ASSERT_TRUE(bytes) << bytes.error().message();
  auto file = parquet::ParquetFile::FromBytes("p.parquet", *bytes);
  ASSERT_TRUE(file) << file.error().message();
  const auto& cols = (*file)->columns();
  ASSERT_EQ(cols.size(), 5u);
  EXPECT_EQ(cols[0].name, "file");
  EXPECT_EQ(cols[0].TypeName(), "STRING");
  EXPECT_EQ(cols[1].TypeName(), "STRING");  // "@17" is not a number
  EXPECT_EQ(cols[2].TypeName(), "DOUBLE");
  EXPECT_EQ(cols[3].TypeName(), "STRING");
  EXPECT_EQ(cols[4].TypeName(), "BOOLEAN");
  ASSERT_EQ((*file)->num_rows(), 4);
  ASSERT_EQ((*file)->row_groups().size(), 2u);
  auto labels = (*file)->ReadStrings(0, 3);
  ASSERT_TRUE(labels);
  EXPECT_EQ((*labels)[1], "dog, \"big\"");
  EXPECT_FALSE((*labels)[2].has_value());  // an empty field is a null
  auto last = (*file)->ReadStrings(1, 3);
  ASSERT_TRUE(last);
  EXPECT_EQ((*last)[0], "");  // "" is an empty string
  std::vector<double> m(3 * 2);
  const std::vector<size_t> c = {2, 4};
  ASSERT_TRUE((*file)->ReadDoubles(0, c, m.data(), 2));
  EXPECT_EQ(m[0], 1.5);
  EXPECT_EQ(m[2], 2.0);
  EXPECT_TRUE(std::isnan(m[4]));
  EXPECT_EQ(m[1], 1.0);
  EXPECT_EQ(m[3], 0.0);
}

TEST(OutputConvert, IntegerKeysAndAFileNamedLikeANumber) {
  auto bytes = Convert("file,row,prediction\n12,0,3\n12,1,4\n", OutputFormat::kParquet);
  ASSERT_TRUE(bytes) << bytes.error().message();
  auto file = parquet::ParquetFile::FromBytes("p.parquet", *bytes);
  ASSERT_TRUE(file) << file.error().message();
  EXPECT_EQ((*file)->columns()[0].TypeName(), "STRING");
  EXPECT_EQ((*file)->columns()[1].TypeName(), "INT64");
  EXPECT_EQ((*file)->columns()[2].TypeName(), "INT64");
}

TEST(OutputConvert, JsonLinesOneObjectPerRow) {
  auto text = Convert(kCsv, OutputFormat::kJsonl);
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_EQ(*text,
            "{\"file\":\"a.csv\",\"row\":\"0\",\"prediction\":1.5,\"label\":\"cat\",\"ok\":true}\n"
            "{\"file\":\"a.csv\",\"row\":\"1\",\"prediction\":2,\"label\":\"dog, \\\"big\\\"\",\"ok\":false}\n"
            "{\"file\":\"b.csv\",\"row\":\"@17\",\"prediction\":null,\"label\":null,\"ok\":true}\n"
            "{\"file\":\"b.csv\",\"row\":\"@40\",\"prediction\":-3e+20,\"label\":\"\",\"ok\":null}\n");
}

TEST(OutputConvert, NoHeaderNamesColumnsByPosition) {
  auto text = Convert("0,0.25,a.csv\n1,0.5,a.csv\n", OutputFormat::kJsonl, {.has_header = false});
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_EQ(*text, "{\"column_0\":0,\"column_1\":0.25,\"column_2\":\"a.csv\"}\n"
                   "{\"column_0\":1,\"column_1\":0.5,\"column_2\":\"a.csv\"}\n");
}

TEST(OutputConvert, ARowOfTheWrongWidthNamesItsLine) {
  auto r = Convert("file,row,prediction\na.csv,0,1\na.csv,1\n", OutputFormat::kParquet);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "the assembled rows, line 3: a row of 2 fields; the header has 3");
  auto q = Convert("file,row,prediction\na.csv,0,\"1\n", OutputFormat::kJsonl);
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().message(), "line 2: a quoted field is never closed");
}

TEST(OutputConvert, AHeaderOnlyOutputIsAnEmptyFile) {
  auto bytes = Convert("file,row,prediction\n", OutputFormat::kParquet);
  ASSERT_TRUE(bytes) << bytes.error().message();
  auto file = parquet::ParquetFile::FromBytes("p.parquet", *bytes);
  ASSERT_TRUE(file) << file.error().message();
  EXPECT_EQ((*file)->num_rows(), 0);
  EXPECT_EQ((*file)->columns().size(), 3u);
}

TEST(OutputConvert, FileNameForEachFormat) {
  EXPECT_EQ(OutputFileNameFor("predictions.csv", OutputFormat::kParquet), "predictions.parquet");
  EXPECT_EQ(OutputFileNameFor("Scores.CSV", OutputFormat::kJsonl), "Scores.jsonl");
  EXPECT_EQ(OutputFileNameFor("out.parquet", OutputFormat::kParquet), "out.parquet");
  EXPECT_EQ(OutputFileNameFor("scores", OutputFormat::kParquet), "scores.parquet");
  EXPECT_EQ(OutputFileNameFor("out.txt", OutputFormat::kJsonl), "out.txt.jsonl");
  EXPECT_EQ(OutputFileNameFor("predictions.csv", OutputFormat::kCsv), "predictions.csv");
  EXPECT_EQ(OutputFileNameFor(".csv", OutputFormat::kParquet), ".csv.parquet");
  EXPECT_FALSE(ParseOutputFormat("xlsx"));
  EXPECT_EQ(*ParseOutputFormat("Parquet"), OutputFormat::kParquet);
}

}  // namespace
}  // namespace lote::jobs
