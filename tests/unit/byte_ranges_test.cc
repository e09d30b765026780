#include "jobs/byte_ranges.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "common/util.h"

namespace lote::jobs {

void PrintTo(const ByteRange& r, std::ostream* os) { *os << r.offset << "+" << r.length; }

namespace {

RangePlan PlanOf(std::string_view text, TextFormat format, uint64_t target, size_t chunk,
                 size_t max_header = kMaxCarriedHeaderBytes) {
  RangeSplitter s(format, target, max_header);
  for (size_t i = 0; i < text.size(); i += chunk) s.Feed(text.substr(i, chunk));
  return s.Finish();
}

void ExpectSamePlan(const RangePlan& a, const RangePlan& b) {
  EXPECT_EQ(a.header, b.header);
  EXPECT_EQ(a.body_offset, b.body_offset);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.ranges, b.ranges);
  EXPECT_EQ(a.header_too_long, b.header_too_long);
}

TEST(ByteRangesTest, FormatsByExtensionInAnyCase) {
  EXPECT_EQ(TextFormatOf("/d/DATA.CSV"), TextFormat::kCsv);
  EXPECT_EQ(TextFormatOf("x.Csv"), TextFormat::kCsv);
  EXPECT_EQ(TextFormatOf("x.TSV"), TextFormat::kTsv);
  EXPECT_EQ(TextFormatOf("x.JsonL"), TextFormat::kLines);
  EXPECT_EQ(TextFormatOf("x.NDJSON"), TextFormat::kLines);
  EXPECT_EQ(TextFormatOf("x.TXT"), TextFormat::kLines);
  EXPECT_EQ(TextFormatOf("x.parquet"), TextFormat::kOther);
  EXPECT_EQ(TextFormatOf("/d.csv/x"), TextFormat::kOther);
  EXPECT_EQ(TextFormatOf("/d/.csv"), TextFormat::kOther) << "a hidden file, not an extension";
  EXPECT_EQ(TextFormatOf("csv"), TextFormat::kOther);
}

// However the bytes arrive (one at a time, a BOM split across calls, a
// quote pair split across calls), the plan is the same.
TEST(ByteRangesTest, ChunkingDoesNotChangeThePlan) {
  std::mt19937 rng(7);
  const std::string alphabet = "\"\",,\n\r\t1a";
  for (int round = 0; round < 200; ++round) {
    std::string text = round % 3 == 0 ? "\xEF\xBB\xBF" : "";
    std::uniform_int_distribution<int> len(0, 60), pick(0, static_cast<int>(alphabet.size()) - 1);
    for (int i = len(rng); i > 0; --i) text += alphabet[static_cast<size_t>(pick(rng))];
    for (TextFormat f : {TextFormat::kCsv, TextFormat::kTsv, TextFormat::kLines}) {
      for (uint64_t target : {1, 5, 17}) {
        RangePlan whole = PlanOf(text, f, target, text.size() + 1);
        for (size_t chunk : {1, 2, 3, 7}) {
          SCOPED_TRACE(nlohmann::json(text).dump() + " chunk " + std::to_string(chunk));
          ExpectSamePlan(PlanOf(text, f, target, chunk), whole);
        }
      }
    }
  }
}

TEST(ByteRangesTest, HeaderAndBom) {
  RangePlan p = PlanOf("\xEF\xBB\xBF\"a\r\nb\",c\r\n1,2\r\n3,4\r\n", TextFormat::kCsv, 1, 4);
  EXPECT_EQ(p.header, "\"a\r\nb\",c");
  EXPECT_EQ(p.body_offset, 13u);
  EXPECT_EQ(p.ranges, (std::vector<ByteRange>{{13, 5}, {18, 5}}));
  // A byte order mark elsewhere is data; a short file cannot hold one.
  EXPECT_EQ(PlanOf("a\n\xEF\xBB\xBF\n", TextFormat::kLines, 1, 1).ranges,
            (std::vector<ByteRange>{{0, 2}, {2, 4}}));
  EXPECT_EQ(PlanOf("\xEF\xBB", TextFormat::kLines, 1, 1).ranges, (std::vector<ByteRange>{{0, 2}}));
  EXPECT_EQ(PlanOf("\xEF\xBB\xBF", TextFormat::kLines, 1, 1).ranges, std::vector<ByteRange>{});
}

// A long line full of quotes that open nothing (not at a field's start) is
// scanned in one pass, not once per quote (which took hours for 8 MiB).
TEST(ByteRangesTest, QuotesInsideFieldsKeepTheScanLinear) {
  std::string line;
  for (int i = 0; i < (4 << 20); ++i) line += "a\"";
  std::string text = "h\n" + line + "\n" + line + "\n1\n";
  RangePlan p = PlanOf(text, TextFormat::kCsv, 1, 1 << 20);
  EXPECT_EQ(p.ranges, (std::vector<ByteRange>{{2, line.size() + 1},
                                              {line.size() + 3, line.size() + 1},
                                              {2 * line.size() + 4, 2}}));
}

// A '\r' outside quotes that ends no "\r\n" is a record end to pandas but
// not to the native reader: nothing is cut after one. Inside quotes, or as
// part of "\r\n" (even split across Feed calls), it changes nothing.
TEST(ByteRangesTest, NoCutAfterABareCarriageReturn) {
  for (size_t chunk : {1, 2, 100}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    EXPECT_EQ(PlanOf("h\r\n1\r\n2\r\n3\r\n", TextFormat::kCsv, 1, chunk).ranges,
              (std::vector<ByteRange>{{3, 3}, {6, 3}, {9, 3}}));
    EXPECT_EQ(PlanOf("h\n1\n2\r\"x\n\"\n3\n4\n", TextFormat::kCsv, 1, chunk).ranges,
              (std::vector<ByteRange>{{2, 2}, {4, 11}}));
    EXPECT_EQ(PlanOf("h\n1\n\"2\r\"\n3\n", TextFormat::kCsv, 1, chunk).ranges,
              (std::vector<ByteRange>{{2, 2}, {4, 5}, {9, 2}}))
        << "a '\\r' inside quotes is data";
    EXPECT_EQ(PlanOf("h\n1\n2\r", TextFormat::kCsv, 1, chunk).ranges,
              (std::vector<ByteRange>{{2, 2}, {4, 2}}));
    EXPECT_EQ(PlanOf("h\rx\n1\n2\n", TextFormat::kCsv, 1, chunk).ranges,
              (std::vector<ByteRange>{{4, 4}})) << "a bare CR in the header: one range";
    EXPECT_EQ(PlanOf("a\rb\nc\n", TextFormat::kLines, 1, chunk).ranges,
              (std::vector<ByteRange>{{0, 4}, {4, 2}})) << "plain lines have no quotes to lose";
  }
}

TEST(ByteRangesTest, TargetZeroIsOneRecordPerRange) {
  RangePlan p = PlanOf("h\n1\n2\n", TextFormat::kCsv, 0, 100);
  EXPECT_EQ(p.ranges, (std::vector<ByteRange>{{2, 2}, {4, 2}}));
}

TEST(ByteRangesTest, TooLongHeaderIsNotCarried) {
  std::string text = std::string(40, 'h') + "\n1\n2\n";
  RangePlan p = PlanOf(text, TextFormat::kCsv, 1, 3, /*max_header=*/39);
  EXPECT_TRUE(p.header_too_long);
  EXPECT_TRUE(p.ranges.empty()) << "the file stays whole";
  EXPECT_TRUE(p.header.empty());
  p = PlanOf(text, TextFormat::kCsv, 1, 3, /*max_header=*/40);
  EXPECT_FALSE(p.header_too_long);
  EXPECT_EQ(p.header, std::string(40, 'h'));
  EXPECT_EQ(p.ranges.size(), 2u);
  // Lines have no header: any line length is fine.
  EXPECT_EQ(PlanOf(text, TextFormat::kLines, 1, 3, 39).ranges.size(), 3u);
}

TEST(ByteRangesTest, PlansAFileAndNamesOneItCannotRead) {
  auto dir = std::filesystem::temp_directory_path() / ("lote-br-" + RandomHex(4));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a.csv") << "x,y\n1,\"2\n3\"\n4,5\n";
  auto p = PlanByteRanges(dir / "a.csv", TextFormat::kCsv, 1);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->header, "x,y");
  EXPECT_EQ(p->ranges, (std::vector<ByteRange>{{4, 8}, {12, 4}}));
  auto missing = PlanByteRanges(dir / "caf\xe9.csv", TextFormat::kCsv, 1);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(),
            "cannot open '" + (dir / "caf\\xe9.csv").string() + "': No such file or directory");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lote::jobs
