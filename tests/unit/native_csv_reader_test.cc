#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <random>
#include <array>
#include <fstream>

#include "native/csv_reader.h"
#include "runtime_stub_worker.h"

namespace lote::native {
namespace {

namespace fs = std::filesystem;
using lote::testing::TempDir;

fs::path Write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

// Reads a whole source with chunks of max_rows rows.
CsvChunk ReadAll(const CsvSource& src, std::vector<std::string> cols, size_t max_rows = 1000) {
  auto r = CsvReader::Open(src, std::move(cols));
  EXPECT_TRUE(r) << r.error().message();
  CsvChunk all, chunk;
  if (!r) return all;
  all.num_columns = (*r)->columns().size();
  while (true) {
    auto more = (*r)->Next(max_rows, &chunk);
    EXPECT_TRUE(more) << more.error().message();
    if (!more || !*more) break;
    EXPECT_LE(chunk.keys.size() + chunk.errors.size(), max_rows);
    all.values.insert(all.values.end(), chunk.values.begin(), chunk.values.end());
    all.keys.insert(all.keys.end(), chunk.keys.begin(), chunk.keys.end());
    all.errors.insert(all.errors.end(), chunk.errors.begin(), chunk.errors.end());
  }
  return all;
}

TEST(NativeCsvReaderTest, SelectsColumnsByNameInTheRequestedOrder) {
  TempDir dir;
  auto f = Write(dir.path() / "a.csv", "id,b,extra,a\n1,2.5,x,3\n2,-4e2,y,+5\n");
  CsvChunk c = ReadAll(CsvSource::WholeFile(f), {"a", "b"});
  ASSERT_EQ(c.rows(), 2u);
  EXPECT_EQ(c.num_columns, 2u);
  EXPECT_EQ(c.values, (std::vector<float>{3, 2.5f, 5, -400}));
  EXPECT_EQ(c.keys[0], (RowKey{.row = 0, .byte_offset = 13, .line = 2}));
  EXPECT_EQ(c.keys[1], (RowKey{.row = 1, .byte_offset = 23, .line = 3}));
  EXPECT_TRUE(c.errors.empty());
}

TEST(NativeCsvReaderTest, NoColumnsMeansEveryColumn) {
  TempDir dir;
  auto f = Write(dir.path() / "a.csv", "x,y\n1,2\n");
  auto r = CsvReader::Open(CsvSource::WholeFile(f), {});
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->columns(), (std::vector<std::string>{"x", "y"}));
}

TEST(NativeCsvReaderTest, AMissingColumnNamesItAndTheFile) {
  TempDir dir;
  auto f = Write(dir.path() / "a.csv", "id,b\n1,2\n");
  auto r = CsvReader::Open(CsvSource::WholeFile(f), {"b", "fareAmount"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(),
            "'" + f.string() + "': column 'fareAmount' is missing; the file's columns: id, b");
}

TEST(NativeCsvReaderTest, FilesThatCannotBeRead) {
  TempDir dir;
  auto missing = CsvReader::Open(CsvSource::WholeFile(dir.path() / "nope.csv"), {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kIo);
  EXPECT_NE(missing.error().message().find("nope.csv"), std::string::npos);
  auto empty = CsvReader::Open(CsvSource::WholeFile(Write(dir.path() / "e.csv", "")), {});
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message().find("the file is empty"), std::string::npos);
  CsvSource range = CsvSource::Range(Write(dir.path() / "r.csv", "a\n1\n"), 2, 2, "");
  range.header.reset();
  auto no_header = CsvReader::Open(range, {});
  ASSERT_FALSE(no_header);
  EXPECT_NE(no_header.error().message().find("needs the file's header line"), std::string::npos);
}

TEST(NativeCsvReaderTest, EmptyCellsAndNanAreMissing) {
  TempDir dir;
  auto f = Write(dir.path() / "a.csv", "a,b,c\n,NaN,nan\nNA, 1 ,null\n\"\",None,-nan\n");
  CsvChunk c = ReadAll(CsvSource::WholeFile(f), {"a", "b", "c"});
  ASSERT_EQ(c.rows(), 3u);
  ASSERT_TRUE(c.errors.empty());
  for (size_t i = 0; i < c.values.size(); ++i) {
    if (i == 4) {
      EXPECT_EQ(c.values[i], 1.0f);
    } else {
      EXPECT_TRUE(std::isnan(c.values[i])) << i;
    }
  }
}

TEST(NativeCsvReaderTest, ANonNumericCellFailsOnlyItsRow) {
  TempDir dir;
  auto f = Write(dir.path() / "a.csv", "a,b\n1,2\n3,abc\n5,6\n7\n8,9\n");
  CsvChunk c = ReadAll(CsvSource::WholeFile(f), {"b", "a"});
  EXPECT_EQ(c.values, (std::vector<float>{2, 1, 6, 5, 9, 8}));
  ASSERT_EQ(c.keys.size(), 3u);
  EXPECT_EQ(c.keys[0].row, 0);
  EXPECT_EQ(c.keys[1].row, 2);  // row 1 is bad; the good rows keep their indices
  EXPECT_EQ(c.keys[2].row, 4);
  ASSERT_EQ(c.errors.size(), 2u);
  EXPECT_EQ(c.errors[0].key, (RowKey{.row = 1, .byte_offset = 8, .line = 3}));
  EXPECT_EQ(c.errors[0].column, "b");
  EXPECT_EQ(c.errors[0].text, "abc");
  EXPECT_EQ(c.errors[0].message, "column 'b': 'abc' is not a number");
  EXPECT_EQ(c.errors[1].key.row, 3);
  EXPECT_EQ(c.errors[1].column, "");
  EXPECT_EQ(c.errors[1].message, "the row has 1 fields, the header has 2");
}

TEST(NativeCsvReaderTest, QuotedFieldsCrlfBomAndBlankLines) {
  TempDir dir;
  auto f = Write(dir.path() / "a.csv",
                 "\xEF\xBB\xBF"
                 "id,\"note, with comma\",x\r\n"
                 "1,\"say \"\"hi\"\", ok\",\"1.5\"\r\n"
                 "\r\n"
                 "2,\"two\nlines\",2\r\n"
                 "3,plain,\"3\"\"\"\r\n"
                 "4,\"last\",4");
  CsvChunk c = ReadAll(CsvSource::WholeFile(f), {"x", "note, with comma"}, 2);
  // The note column is text: every row but... all notes are non-numeric.
  EXPECT_EQ(c.rows(), 0u);
  ASSERT_EQ(c.errors.size(), 4u);
  EXPECT_EQ(c.errors[0].text, "say \"hi\", ok");
  EXPECT_EQ(c.errors[0].key.line, 2);
  EXPECT_EQ(c.errors[1].text, "two\nlines");
  EXPECT_EQ(c.errors[1].key.line, 4);  // line 3 is blank
  EXPECT_EQ(c.errors[1].key.row, 1);   // and is not a data row
  EXPECT_EQ(c.errors[2].column, "x");  // 3"" is not a number
  EXPECT_EQ(c.errors[2].text, "3\"");
  EXPECT_EQ(c.errors[2].key.line, 6);
  EXPECT_EQ(c.errors[3].key.line, 7);

  CsvChunk x = ReadAll(CsvSource::WholeFile(f), {"id", "x"});
  EXPECT_EQ(x.values, (std::vector<float>{1, 1.5f, 2, 2, 4, 4}));
  ASSERT_EQ(x.errors.size(), 1u);
  EXPECT_EQ(x.errors[0].key.row, 2);
}

TEST(NativeCsvReaderTest, ParsesLikePythonFloat) {
  TempDir dir;
  auto f = Write(dir.path() / "a.csv",
                 "a\n0.1\n1e-50\n1e400\n-1e400\n3.4028235677973366e38\n16777217\ninf\n-Infinity\n");
  CsvChunk c = ReadAll(CsvSource::WholeFile(f), {"a"});
  ASSERT_TRUE(c.errors.empty()) << c.errors[0].message;
  ASSERT_EQ(c.rows(), 8u);
  EXPECT_EQ(c.values[0], static_cast<float>(0.1));
  EXPECT_EQ(c.values[1], 0.0f);
  EXPECT_EQ(c.values[2], INFINITY);
  EXPECT_EQ(c.values[3], -INFINITY);
  EXPECT_EQ(c.values[5], 16777216.0f);
  EXPECT_EQ(c.values[6], INFINITY);
  EXPECT_EQ(c.values[7], -INFINITY);
}

TEST(NativeCsvReaderTest, LongRecordsGrowTheBuffer) {
  TempDir dir;
  std::string big(100000, 'z');
  auto f = Write(dir.path() / "a.csv", "a,note\n1," + big + "\n2,\"" + big + "\"\n3,x\n");
  CsvChunk c = ReadAll(CsvSource::WholeFile(f), {"a"});
  EXPECT_EQ(c.values, (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(c.keys[2].line, 4);
  EXPECT_EQ(c.keys[2].byte_offset, 7u + (2 + big.size() + 1) + (3 + big.size() + 2));
}

// A record over max_record_bytes fails the whole source, naming the file
// (as CsvSource::name gives it), where the record is, and the limit; the
// buffer never grows past the limit.
TEST(NativeCsvReaderTest, ARecordOverTheLimitFailsTheSource) {
  TempDir dir;
  const std::string big(300, 'z');
  auto f = Write(dir.path() / "a.csv", "a,note\n1,x\n2,\"" + big + "\n\"\n3,y\n");
  auto read = [&](CsvSource src) -> std::string {
    src.max_record_bytes = 200;
    auto r = CsvReader::Open(src, {"a"});
    if (!r) return "open: " + r.error().message();
    CsvChunk chunk;
    while (true) {
      auto more = (*r)->Next(1, &chunk);
      if (!more) return more.error().message();
      if (!*more) return "read everything";
    }
  };
  CsvSource whole = CsvSource::WholeFile(f);
  whole.name = "shown.csv";
  EXPECT_EQ(read(whole),
            "'shown.csv': the record at line 3 is longer than 200 bytes, the limit for one CSV "
            "record");
  EXPECT_EQ(read(CsvSource::Range(f, 11, 308, "a,note")),
            "'" + f.string() + "': the record at byte 11 is longer than 200 bytes, the limit for "
            "one CSV record");
  EXPECT_EQ(read(CsvSource::Range(f, 7, 4, big)),
            "open: '" + f.string() + "': the header record is longer than 200 bytes, the limit "
            "for one CSV record");
  auto h = Write(dir.path() / "h.csv", big + "\n1\n");
  EXPECT_EQ(read(CsvSource::WholeFile(h)),
            "open: '" + h.string() + "': the header record is longer than 200 bytes, the limit "
            "for one CSV record");
  CsvSource ok = CsvSource::WholeFile(f);
  ok.max_record_bytes = 400;
  EXPECT_EQ(ReadAll(ok, {"a"}).values, (std::vector<float>{1, 2, 3}));
}

TEST(NativeCsvReaderTest, MessagesQuoteAtMost64BytesOfAColumnName) {
  TempDir dir;
  auto f = Write(dir.path() / "a.csv", std::string(100000, 'c') + ",b\n1,2\n");
  auto r = CsvReader::Open(CsvSource::WholeFile(f), {"x"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "'" + f.string() + "': column 'x' is missing; the file's columns: " +
                                     std::string(64, 'c') + "…, b");
}

// Found by fuzz/csv_reader: a blank first line was taken for the header
// (one unnamed column, every row an error), although blank lines are
// skipped everywhere else, and pandas skips this one too.
TEST(NativeCsvReaderTest, BlankLinesBeforeTheHeaderAreSkipped) {
  TempDir dir;
  auto f = Write(dir.path() / "a.csv", "\xEF\xBB\xBF\n\r\na,b\n1,2\n");
  auto r = CsvReader::Open(CsvSource::WholeFile(f), {});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ((*r)->header(), (std::vector<std::string>{"a", "b"}));
  CsvChunk c = ReadAll(CsvSource::WholeFile(f), {"b", "a"});
  EXPECT_EQ(c.values, (std::vector<float>{2, 1}));
  ASSERT_EQ(c.keys.size(), 1u);
  EXPECT_EQ(c.keys[0], (RowKey{.row = 0, .byte_offset = 10, .line = 4}));
  EXPECT_TRUE(c.errors.empty());
  auto blank = CsvReader::Open(CsvSource::WholeFile(Write(dir.path() / "b.csv", "\n\r\n\n")), {});
  ASSERT_FALSE(blank);
  EXPECT_NE(blank.error().message().find("no header line"), std::string::npos) << blank.error().message();
}

// Found by fuzz/csv_reader: a header record "x,y\r\r\n" names its columns
// "x" and "y\r" in the whole file; the planner carries it as "x,y\r" (no line
// end), and a range read that as "x" and "y" (it stripped the '\r' as if it
// were half of a line end), so a column was found in one mode and not in the
// other.
TEST(NativeCsvReaderTest, ARangeHeaderIsReadAsTheWholeFileReadsIt) {
  TempDir dir;
  auto f = Write(dir.path() / "a.csv", "x,y\r\r\n1,2\n");
  auto whole = CsvReader::Open(CsvSource::WholeFile(f), {});
  ASSERT_TRUE(whole) << whole.error().message();
  EXPECT_EQ((*whole)->header(), (std::vector<std::string>{"x", "y\r"}));
  for (const char* header : {"x,y\r", "x,\"y\r\"", "x,y"}) {
    auto range = CsvReader::Open(CsvSource::Range(f, 7, 4, header), {});
    ASSERT_TRUE(range) << range.error().message();
    auto expect = header == std::string("x,y") ? std::vector<std::string>{"x", "y"}
                                              : std::vector<std::string>{"x", "y\r"};
    EXPECT_EQ((*range)->header(), expect) << header;
  }
  auto empty = CsvReader::Open(CsvSource::Range(f, 7, 4, ""), {});
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message().find("the header line is empty"), std::string::npos);
}

TEST(NativeCsvReaderTest, ByteRangesReassembleTheWholeFile) {
  TempDir dir;
  std::string text = "y,x,skip\n";
  for (int i = 0; i < 3000; ++i) {
    text += std::to_string(i * 0.25) + "," + (i % 13 == 0 ? "" : std::to_string(-i)) + ",s" +
            std::to_string(i) + (i % 2 ? "\r\n" : "\n");
    if (i % 500 == 0) text += "\n";  // blank lines too
  }
  auto f = Write(dir.path() / "a.csv", text);
  CsvChunk whole = ReadAll(CsvSource::WholeFile(f), {"x", "y"});
  ASSERT_EQ(whole.rows(), 3000u);
  const uint64_t body = text.find('\n') + 1;
  for (uint64_t target : {1ull, 100ull, 4096ull, 50000ull, 1000000ull}) {
    // Line-aligned ranges as the planner cuts them.
    CsvChunk joined;
    uint64_t start = body;
    int ranges = 0;
    while (start < text.size()) {
      uint64_t end = std::min<uint64_t>(start + target, text.size());
      if (end < text.size()) {
        size_t nl = text.find('\n', end - 1);
        end = nl == std::string::npos ? text.size() : nl + 1;
      }
      CsvChunk part = ReadAll(CsvSource::Range(f, start, end - start, "y,x,skip"), {"x", "y"}, 7);
      for (const RowKey& k : part.keys) {
        EXPECT_EQ(k.line, 0);
        EXPECT_GE(k.byte_offset, start);
        EXPECT_LT(k.byte_offset, end);
      }
      joined.values.insert(joined.values.end(), part.values.begin(), part.values.end());
      joined.keys.insert(joined.keys.end(), part.keys.begin(), part.keys.end());
      EXPECT_TRUE(part.errors.empty());
      start = end;
      ++ranges;
    }
    ASSERT_EQ(joined.keys.size(), whole.keys.size()) << "target " << target;
    for (size_t i = 0; i < whole.keys.size(); ++i) {
      ASSERT_EQ(joined.keys[i].byte_offset, whole.keys[i].byte_offset) << i;
    }
    ASSERT_EQ(joined.values.size(), whole.values.size());
    for (size_t i = 0; i < whole.values.size(); ++i) {
      ASSERT_TRUE(joined.values[i] == whole.values[i] ||
                  (std::isnan(joined.values[i]) && std::isnan(whole.values[i])))
          << i;
    }
    if (target == 1) {
      EXPECT_EQ(ranges, 3000 + 6);  // one range per line, blank ones too
    }
  }
}

}  // namespace
}  // namespace lote::native

namespace lote::native {
namespace {

TEST(NativeCsvReaderTest, PlainAndUnusualRowsMixGiveTheSameValuesAndKeys) {
  // Plain numeric rows take a one-pass path; every other row the general
  // one. Mixed in one file, values, row numbers, lines and byte offsets must
  // be what the general path alone gives, and bad rows still fail alone.
  TempDir dir;
  std::string text = "c,a,b\n";
  std::vector<std::array<float, 2>> want;  // a, b
  std::mt19937 rng(3);
  for (int i = 0; i < 3000; ++i) {
    switch (i % 7) {
      case 0: text += std::to_string(i) + ",1.5," + std::to_string(-i) + "e-2\n"; want.push_back({1.5f, float(-i * 1e-2)}); break;
      case 1: text += "x, 2 ,\"3\"\r\n"; want.push_back({2.0f, 3.0f}); break;     // spaces, quotes, CRLF
      case 2: text += "0,,4\n"; want.push_back({NAN, 4.0f}); break;                // an empty cell
      case 3: text += "0,1234567890123456789,5\n"; want.push_back({1234567890123456789.0f, 5.0f}); break;
      case 4: text += "\n"; break;                                                  // blank
      case 5: text += "0,abc,6\n"; break;                                           // bad: fails alone
      default: text += "7,+8,9\r\n"; want.push_back({8.0f, 9.0f}); break;
    }
  }
  text += "1,2,3";  // no newline at the end
  want.push_back({2.0f, 3.0f});
  auto f = Write(dir.path() / "mix.csv", text);
  for (size_t chunk_rows : {1u, 7u, 100000u}) {
    CsvChunk c = ReadAll(CsvSource::WholeFile(f), {"a", "b"}, chunk_rows);
    ASSERT_EQ(c.rows(), want.size());
    for (size_t r = 0; r < want.size(); ++r) {
      for (int k = 0; k < 2; ++k) {
        float got = c.values[r * 2 + static_cast<size_t>(k)], w = want[r][static_cast<size_t>(k)];
        if (std::isnan(w)) {
          EXPECT_TRUE(std::isnan(got)) << r;
        } else {
          EXPECT_EQ(got, w) << "row " << r << " column " << k;
        }
      }
    }
    // Keys: data rows count from 0 skipping blanks; lines count every line.
    EXPECT_EQ(c.keys[0].row, 0);
    EXPECT_EQ(c.keys[0].line, 2);
    EXPECT_EQ(c.keys[0].byte_offset, 6u);
    EXPECT_EQ(c.keys[4].row, 5) << "the blank line is no row, the bad row is one";
    EXPECT_EQ(c.keys[4].line, 8);
    EXPECT_EQ(text.substr(c.keys[4].byte_offset, 6), "7,+8,9");
    EXPECT_EQ(c.errors.size(), 3000u / 7 + (3000 % 7 > 5 ? 1 : 0));
    EXPECT_EQ(c.errors[0].column, "a");
    EXPECT_EQ(c.errors[0].key.line, 7);
  }
}

TEST(FastDecimalTest, AgreesWithFromCharsBitForBit) {
  std::mt19937_64 rng(42);
  std::vector<std::string> texts = {"0", "-0", "0.0", "1.", ".5", "-.5", "+7", "123456789012345",
                                    "1e22", "1e-22", "4.9e-5", "9007199254740991", "0.1", "0.3",
                                    "1E+05", "2.5e0", "-3.14159"};
  char buf[64];
  for (int i = 0; i < 200000; ++i) {
    double v = std::ldexp(static_cast<double>(rng() >> 11), static_cast<int>(rng() % 40) - 60);
    if (rng() % 2) v = -v;
    int prec = static_cast<int>(rng() % 17) + 1;
    const char* fmt = (rng() % 3 == 0) ? "%.*e" : (rng() % 2 ? "%.*f" : "%.*g");
    std::snprintf(buf, sizeof buf, fmt, prec, v);
    texts.emplace_back(buf);
  }
  int fast = 0;
  for (const std::string& t : texts) {
    double got = 0, want = 0;
    if (!FastDecimal(t.data(), t.size(), &got)) continue;
    ++fast;
    const char* p = t.data() + (t[0] == '+' ? 1 : 0);
    auto [end, ec] = std::from_chars(p, t.data() + t.size(), want);
    ASSERT_EQ(ec, std::errc()) << t;
    ASSERT_EQ(end, t.data() + t.size()) << t;
    ASSERT_EQ(std::bit_cast<uint64_t>(got), std::bit_cast<uint64_t>(want)) << t;
  }
  EXPECT_GT(fast, 100000) << "the fast path takes most plain decimals";
  double d;
  for (const char* bad : {"", "-", ".", "e5", "1e", "1e+", "1.2.3", "0x10", "nan", "inf", "1,5",
                          "12345678901234567", "1e23", "1e-23", "--1"}) {
    EXPECT_FALSE(FastDecimal(bad, std::strlen(bad), &d)) << bad;
  }
}

}  // namespace
}  // namespace lote::native
