// The planner's first_row / first_line (jobs/byte_ranges.h) and the native
// readers (native/csv_reader.h, native/jsonl_reader.h) together: a file
// read as the planner's byte ranges gives every row the key (row number,
// line, byte offset) that reading the whole file gives it, whatever the
// range size, for the inputs where counting is tricky.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "jobs/byte_ranges.h"
#include "native/csv_reader.h"
#include "native/jsonl_reader.h"
#include "runtime_stub_worker.h"

namespace lote::native {
namespace {

namespace fs = std::filesystem;
using lote::testing::TempDir;

template <class Reader>
CsvChunk ReadAll(const CsvSource& src, const std::vector<std::string>& cols) {
  CsvChunk all, chunk;
  auto r = Reader::Open(src, cols);
  EXPECT_TRUE(r) << r.error().message();
  if (!r) return all;
  while (true) {
    auto more = (*r)->Next(3, &chunk);
    EXPECT_TRUE(more) << more.error().message();
    if (!more || !*more) break;
    all.keys.insert(all.keys.end(), chunk.keys.begin(), chunk.keys.end());
    all.errors.insert(all.errors.end(), chunk.errors.begin(), chunk.errors.end());
    all.values.insert(all.values.end(), chunk.values.begin(), chunk.values.end());
  }
  return all;
}

// Every row's key, good rows and bad ones, in file order.
std::vector<RowKey> Keys(const CsvChunk& c) {
  std::vector<RowKey> out = c.keys;
  for (const RowError& e : c.errors) out.push_back(e.key);
  std::sort(out.begin(), out.end(),
            [](const RowKey& a, const RowKey& b) { return a.byte_offset < b.byte_offset; });
  return out;
}

template <class Reader>
void ExpectRangesKeyLikeTheWholeFile(const fs::path& f, const std::string& text,
                                     jobs::TextFormat format, const std::vector<std::string>& cols) {
  const CsvChunk whole = ReadAll<Reader>(CsvSource::WholeFile(f), cols);
  const std::vector<RowKey> want = Keys(whole);
  ASSERT_FALSE(want.empty());
  for (uint64_t target : {1ull, 5ull, 17ull, 64ull, 100000ull}) {
    SCOPED_TRACE("target " + std::to_string(target));
    jobs::RangeSplitter s(format, target);
    s.Feed(text);
    jobs::RangePlan plan = s.Finish();
    ASSERT_FALSE(plan.ranges.empty());
    CsvChunk joined;
    for (const jobs::ByteRange& r : plan.ranges) {
      CsvSource src = CsvSource::Range(f, r.offset, r.length, plan.header);
      src.first_row = static_cast<int64_t>(r.first_row);
      src.first_line = static_cast<int64_t>(r.first_line);
      CsvChunk part = ReadAll<Reader>(src, cols);
      joined.keys.insert(joined.keys.end(), part.keys.begin(), part.keys.end());
      joined.errors.insert(joined.errors.end(), part.errors.begin(), part.errors.end());
    }
    EXPECT_EQ(Keys(joined), want);
  }
}

TEST(RangeRowKeysTest, CsvRangesKeyRowsAsTheWholeFile) {
  TempDir dir;
  const std::string text =
      "\xEF\xBB\xBF"
      "\r\n"                      // blank before the header
      "a,\"b\nb\"\r\n"            // a header with a quoted line end
      "1,2\r\n"
      "\n"                        // blank
      "  \t\r\n"                  // spaces and a tab: blank as well
      "3,\"x\r\ny\"\r\n"          // a quoted CRLF: one row, two lines
      "4,\"\"\"q\"\"\"\n"         // doubled quotes
      " ,5\n"                     // not blank: a row (with a bad cell)
      "6,7\n"
      "\n"
      "8,9";                      // no line end at the end
  fs::path f = dir.path() / "t.csv";
  std::ofstream(f, std::ios::binary) << text;
  CsvChunk whole = ReadAll<CsvReader>(CsvSource::WholeFile(f), {"a"});
  const std::vector<RowKey> keys = Keys(whole);
  ASSERT_EQ(keys.size(), 6u);
  EXPECT_EQ(keys[0].row, 0);
  EXPECT_EQ(keys[0].line, 4);
  EXPECT_EQ(keys[1].line, 7);
  EXPECT_EQ(keys[2].line, 9);
  EXPECT_EQ(keys[3].line, 10);
  EXPECT_EQ(keys[5].row, 5);
  EXPECT_EQ(keys[5].line, 13);
  ExpectRangesKeyLikeTheWholeFile<CsvReader>(f, text, jobs::TextFormat::kCsv, {"a"});
}

TEST(RangeRowKeysTest, JsonLinesRangesKeyRowsAsTheWholeFile) {
  TempDir dir;
  const std::string text =
      "\xEF\xBB\xBF{\"a\": 1}\n"
      "\n"
      " \t\r\n"
      "{\"a\": 2}\r\n"
      "not json\n"
      "{\"a\": \"s\"}\n"
      "{\"a\": 3}";
  fs::path f = dir.path() / "t.jsonl";
  std::ofstream(f, std::ios::binary) << text;
  const std::vector<RowKey> keys = Keys(ReadAll<JsonlReader>(CsvSource::WholeFile(f), {"a"}));
  ASSERT_EQ(keys.size(), 5u);
  EXPECT_EQ(keys[1].row, 1);
  EXPECT_EQ(keys[1].line, 4);
  EXPECT_EQ(keys[4].line, 7);
  ExpectRangesKeyLikeTheWholeFile<JsonlReader>(f, text, jobs::TextFormat::kLines, {"a"});
}

// A range without first_row (an item planned by an older lote) still reads:
// rows counted within the range, lines unknown.
TEST(RangeRowKeysTest, ARangeWithoutFirstRowCountsFromZero) {
  TempDir dir;
  fs::path f = dir.path() / "t.csv";
  std::ofstream(f, std::ios::binary) << "a\n1\n2\n3\n";
  CsvChunk c = ReadAll<CsvReader>(CsvSource::Range(f, 4, 4, "a"), {"a"});
  ASSERT_EQ(c.keys.size(), 2u);
  EXPECT_EQ(c.keys[0], (RowKey{.row = 0, .byte_offset = 4, .line = 0}));
  EXPECT_EQ(c.keys[1], (RowKey{.row = 1, .byte_offset = 6, .line = 0}));
}

}  // namespace
}  // namespace lote::native
