#include "native/jsonl_reader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "common/util.h"

namespace lote::native {
namespace {

namespace fs = std::filesystem;

class JsonlReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lote-jsonl-" + RandomHex(6));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path Write(const std::string& text) {
    fs::path p = dir_ / "t.jsonl";
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  // Every row of the source, max_rows at a time.
  CsvChunk ReadAll(const CsvSource& src, std::vector<std::string> cols, size_t max_rows = 1000) {
    auto r = JsonlReader::Open(src, std::move(cols));
    EXPECT_TRUE(r) << r.error().message();
    CsvChunk all, chunk;
    while (true) {
      auto more = (*r)->Next(max_rows, &chunk);
      EXPECT_TRUE(more) << more.error().message();
      if (!more || !*more) break;
      all.num_columns = chunk.num_columns;
      all.values.insert(all.values.end(), chunk.values.begin(), chunk.values.end());
      all.keys.insert(all.keys.end(), chunk.keys.begin(), chunk.keys.end());
      all.errors.insert(all.errors.end(), chunk.errors.begin(), chunk.errors.end());
    }
    return all;
  }
  fs::path dir_;
};

TEST_F(JsonlReaderTest, ReadsKeysByNameAndBadLinesFailOnlyTheirRow) {
  const std::string text =
      "\xEF\xBB\xBF{\"b\": 2, \"a\": 1.5, \"x\": \"ignored\"}\n"  // line 1
      "\n"                                                         // blank: no row
      "{\"a\": true, \"b\": null}\r\n"                             // line 3
      "{\"a\": 1, \"b\": \"7\"}\n"                                 // a string
      "{\"a\": 1}\n"                                               // b missing
      "{\"a\": 1, \"b\": 2\n"                                      // not JSON
      "[1, 2]\n"                                                   // not an object
      "{\"a\": -3e2, \"b\": 18446744073709551615, \"a\": 9}";     // no "\n"; a twice
  const fs::path p = Write(text);
  CsvChunk c = ReadAll(CsvSource::WholeFile(p), {"a", "b"}, 2);
  ASSERT_EQ(c.rows(), 3u);
  EXPECT_EQ(c.values[0], 1.5f);
  EXPECT_EQ(c.values[1], 2.0f);
  EXPECT_EQ(c.values[2], 1.0f);
  EXPECT_TRUE(std::isnan(c.values[3]));
  EXPECT_EQ(c.values[4], -300.0f);
  EXPECT_EQ(c.values[5], 18446744073709551615.0f);
  EXPECT_EQ(c.keys[0], (RowKey{.row = 0, .byte_offset = 3, .line = 1}));
  EXPECT_EQ(c.keys[1].line, 3);
  EXPECT_EQ(c.keys[1].row, 1);
  EXPECT_EQ(c.keys[2].line, 8);
  EXPECT_EQ(c.keys[2].row, 6);
  ASSERT_EQ(c.errors.size(), 4u);
  EXPECT_EQ(c.errors[0].key.line, 4);
  EXPECT_EQ(c.errors[0].column, "b");
  EXPECT_EQ(c.errors[0].message, "key 'b': a string, not a number");
  EXPECT_EQ(c.errors[1].message, "key 'b' is missing");
  EXPECT_EQ(c.errors[1].key.line, 5);
  EXPECT_TRUE(c.errors[2].message.starts_with("not valid JSON (")) << c.errors[2].message;
  EXPECT_EQ(c.errors[2].key.row, 4);
  EXPECT_EQ(c.errors[3].message, "not a JSON object");
}

TEST_F(JsonlReaderTest, RangesKeyRowsByByteOffset) {
  const std::string text = "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3}\n";
  const fs::path p = Write(text);
  CsvChunk c = ReadAll(CsvSource::Range(p, 9, 18, ""), {"a"});
  ASSERT_EQ(c.rows(), 2u);
  EXPECT_EQ(c.values, (std::vector<float>{2, 3}));
  EXPECT_EQ(c.keys[0], (RowKey{.row = 0, .byte_offset = 9, .line = 0}));
  EXPECT_EQ(c.keys[1].byte_offset, 18u);
}

TEST_F(JsonlReaderTest, NamelessColumnsAndOverlongLinesAreErrorsOfTheSource) {
  const fs::path p = Write("{\"a\": 1}\n{\"a\": " + std::string(300000, '1') + "}\n");
  auto none = JsonlReader::Open(CsvSource::WholeFile(p), {});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("does not name its columns"), std::string::npos);
  CsvSource src = CsvSource::WholeFile(p);
  src.name = "t.jsonl";
  src.max_record_bytes = 100000;
  auto r = JsonlReader::Open(src, {"a"});
  ASSERT_TRUE(r);
  CsvChunk chunk;
  Result<bool> more = true;
  while (more && *more) more = (*r)->Next(1, &chunk);
  ASSERT_FALSE(more);
  EXPECT_EQ(more.error().message(),
            "'t.jsonl': line 2 is longer than 100000 bytes, the limit for one JSON Lines record");
}

TEST(JsonlLineParserTest, CopiesLinesWithoutPadding) {
  JsonlLineParser p({"x"});
  float v = 0;
  std::string col, msg;
  const std::string line = "{\"x\": 0.1}";
  ASSERT_TRUE(p.Parse(line, line.size(), &v, &col, &msg)) << msg;
  EXPECT_EQ(v, 0.1f);
  EXPECT_FALSE(p.Parse("{\"x\": [1]}", 10, &v, &col, &msg));
  EXPECT_EQ(msg, "key 'x': an array, not a number");
  EXPECT_FALSE(p.Parse("", 0, &v, &col, &msg));
}

}  // namespace
}  // namespace lote::native
