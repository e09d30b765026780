#include "jobs/byte_ranges.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "common/util.h"

namespace lote::jobs {

void PrintTo(const ByteRange& r, std::ostream* os) {
  *os << r.offset << "+" << r.length << " row " << r.first_row << " line " << r.first_line;
}

namespace {

// Ranges as (offset, length) pairs, for the tests about where cuts fall.
using Span = std::pair<uint64_t, uint64_t>;
std::vector<Span> SpansOf(const std::vector<ByteRange>& ranges) {
  std::vector<Span> out;
  for (const ByteRange& r : ranges) out.emplace_back(r.offset, r.length);
  return out;
}

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
  EXPECT_EQ(SpansOf(p.ranges), (std::vector<Span>{{13, 5}, {18, 5}}));
  // A byte order mark elsewhere is data; a short file cannot hold one.
  EXPECT_EQ(SpansOf(PlanOf("a\n\xEF\xBB\xBF\n", TextFormat::kLines, 1, 1).ranges),
            (std::vector<Span>{{0, 2}, {2, 4}}));
  EXPECT_EQ(SpansOf(PlanOf("\xEF\xBB", TextFormat::kLines, 1, 1).ranges), (std::vector<Span>{{0, 2}}));
  EXPECT_EQ(SpansOf(PlanOf("\xEF\xBB\xBF", TextFormat::kLines, 1, 1).ranges), std::vector<Span>{});
}

// Blank lines before the header are not the header: pandas and the native
// reader skip them, so the header is the first record that is not blank
// (found by fuzz/csv_reader: a blank first line was carried as an empty
// header and every range failed).
TEST(ByteRangesTest, BlankLinesBeforeTheHeaderAreSkipped) {
  for (size_t chunk : {1u, 3u, 100u}) {
    RangePlan p = PlanOf("\n\r\na,b\n1,2\n3,4\n", TextFormat::kCsv, 1, chunk);
    EXPECT_EQ(p.header, "a,b") << chunk;
    EXPECT_EQ(p.body_offset, 7u) << chunk;
    EXPECT_EQ(SpansOf(p.ranges), (std::vector<Span>{{7, 4}, {11, 4}})) << chunk;
    // With a BOM, and a line of spaces, which is not blank.
    RangePlan q = PlanOf("\xEF\xBB\xBF\n h\n1\n", TextFormat::kCsv, 1, chunk);
    EXPECT_EQ(q.header, " h") << chunk;
    EXPECT_EQ(q.body_offset, 7u) << chunk;
  }
  // Only blank lines: no header, no body, nothing to split.
  RangePlan e = PlanOf("\n\r\n\n", TextFormat::kCsv, 1, 1);
  EXPECT_EQ(e.header, "");
  EXPECT_TRUE(e.ranges.empty());
  // Lines files have no header: a blank first line is a record of the body.
  EXPECT_EQ(SpansOf(PlanOf("\na\n", TextFormat::kLines, 1, 1).ranges), (std::vector<Span>{{0, 1}, {1, 2}}));
}

// A long line full of quotes that open nothing (not at a field's start) is
// scanned in one pass, not once per quote (which took hours for 8 MiB).
TEST(ByteRangesTest, QuotesInsideFieldsKeepTheScanLinear) {
  std::string line;
  for (int i = 0; i < (4 << 20); ++i) line += "a\"";
  std::string text = "h\n" + line + "\n" + line + "\n1\n";
  RangePlan p = PlanOf(text, TextFormat::kCsv, 1, 1 << 20);
  EXPECT_EQ(SpansOf(p.ranges), (std::vector<Span>{{2, line.size() + 1},
                                              {line.size() + 3, line.size() + 1},
                                              {2 * line.size() + 4, 2}}));
}

// A '\r' outside quotes that ends no "\r\n" is a record end to pandas but
// not to the native reader: nothing is cut after one. Inside quotes, or as
// part of "\r\n" (even split across Feed calls), it changes nothing.
TEST(ByteRangesTest, NoCutAfterABareCarriageReturn) {
  for (size_t chunk : {1, 2, 100}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    EXPECT_EQ(SpansOf(PlanOf("h\r\n1\r\n2\r\n3\r\n", TextFormat::kCsv, 1, chunk).ranges),
              (std::vector<Span>{{3, 3}, {6, 3}, {9, 3}}));
    EXPECT_EQ(SpansOf(PlanOf("h\n1\n2\r\"x\n\"\n3\n4\n", TextFormat::kCsv, 1, chunk).ranges),
              (std::vector<Span>{{2, 2}, {4, 11}}));
    EXPECT_EQ(SpansOf(PlanOf("h\n1\n\"2\r\"\n3\n", TextFormat::kCsv, 1, chunk).ranges),
              (std::vector<Span>{{2, 2}, {4, 5}, {9, 2}}))
        << "a '\\r' inside quotes is data";
    EXPECT_EQ(SpansOf(PlanOf("h\n1\n2\r", TextFormat::kCsv, 1, chunk).ranges),
              (std::vector<Span>{{2, 2}, {4, 2}}));
    EXPECT_EQ(SpansOf(PlanOf("h\rx\n1\n2\n", TextFormat::kCsv, 1, chunk).ranges),
              (std::vector<Span>{{4, 4}})) << "a bare CR in the header: one range";
    EXPECT_EQ(SpansOf(PlanOf("a\rb\nc\n", TextFormat::kLines, 1, chunk).ranges),
              (std::vector<Span>{{0, 4}, {4, 2}})) << "plain lines have no quotes to lose";
  }
}

// Each range knows the row number and line of its first record, as a
// reader of the whole file counts them: the header is not a row, blank lines
// (spaces, tabs, '\r' only) are not rows but are lines, quoted line ends are
// lines, a BOM is nothing, and the last record may lack its line end.
TEST(ByteRangesTest, RangesKnowTheirFirstRowAndLine) {
  using Rows = std::vector<std::pair<uint64_t, uint64_t>>;  // (first_row, first_line)
  auto rows_of = [](const RangePlan& p) {
    Rows out;
    for (const ByteRange& r : p.ranges) out.emplace_back(r.first_row, r.first_line);
    return out;
  };
  for (size_t chunk : {1u, 2u, 5u, 1000u}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    // CRLF, a blank line before the header, a BOM.
    EXPECT_EQ(rows_of(PlanOf("\xEF\xBB\xBF\r\na,b\r\n1,2\r\n3,4\r\n", TextFormat::kCsv, 1, chunk)),
              (Rows{{0, 3}, {1, 4}}));
    // Quoted line ends: a record of three lines.
    EXPECT_EQ(rows_of(PlanOf("h\n\"x\n\ny\"\n2\n3\n", TextFormat::kCsv, 1, chunk)),
              (Rows{{0, 2}, {1, 5}, {2, 6}}));
    // Blank lines (empty, spaces, tabs, CRLF) are lines but not rows; a range
    // of blank lines only holds no row.
    RangePlan p = PlanOf("h\n1\n\n  \n\t\r\n2\n \n3", TextFormat::kCsv, 1, chunk);
    EXPECT_EQ(SpansOf(p.ranges),
              (std::vector<Span>{{2, 2}, {4, 1}, {5, 3}, {8, 3}, {11, 2}, {13, 2}, {15, 1}}));
    EXPECT_EQ(rows_of(p), (Rows{{0, 2}, {1, 3}, {1, 4}, {1, 5}, {1, 6}, {2, 7}, {2, 8}}));
    // A line of a space and a comma is a row (two empty fields).
    EXPECT_EQ(rows_of(PlanOf("h\n ,\n1\n", TextFormat::kCsv, 1, chunk)), (Rows{{0, 2}, {1, 3}}));
    // Lines: no header; blank lines skipped as the JSON Lines reader skips them.
    EXPECT_EQ(rows_of(PlanOf("{}\n\n \r\n{}\n{}", TextFormat::kLines, 1, chunk)),
              (Rows{{0, 1}, {1, 2}, {1, 3}, {1, 4}, {2, 5}}));
    EXPECT_EQ(rows_of(PlanOf("\xEF\xBB\xBF{}\n{}\n", TextFormat::kLines, 3, chunk)),
              (Rows{{0, 1}, {1, 2}}));
  }
  // Bigger ranges count every row before them.
  std::string text = "h\n";
  for (int i = 0; i < 100; ++i) text += std::to_string(i) + (i % 7 == 0 ? "\n\n" : "\n");
  RangePlan p = PlanOf(text, TextFormat::kCsv, 50, 13);
  ASSERT_GT(p.ranges.size(), 3u);
  for (const ByteRange& r : p.ranges) {
    std::string_view before(text.data() + 2, r.offset - 2);
    uint64_t lines = static_cast<uint64_t>(std::count(text.begin(), text.begin() + static_cast<long>(r.offset), '\n'));
    uint64_t rows = 0;
    for (size_t at = 0; at < before.size();) {
      size_t nl = before.find('\n', at);
      if (nl > at) ++rows;
      at = nl + 1;
    }
    EXPECT_EQ(r.first_row, rows) << r.offset;
    EXPECT_EQ(r.first_line, lines + 1) << r.offset;
  }
}

TEST(ByteRangesTest, TargetZeroIsOneRecordPerRange) {
  RangePlan p = PlanOf("h\n1\n2\n", TextFormat::kCsv, 0, 100);
  EXPECT_EQ(SpansOf(p.ranges), (std::vector<Span>{{2, 2}, {4, 2}}));
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

// The ranges as the Python side reads them: for random texts of quotes,
// commas, spaces, LF and CRLF line ends (with and without a BOM) at every
// target size, pandas.read_csv and Python's csv module read the header record
// plus each range and get exactly the rows they get from the whole file, and
// each range's first_row is the number of rows pandas read before it. Texts a
// reader refuses as a whole (pandas: too many fields) are not compared.
constexpr char kDifferentialPy[] = R"PY(
import base64, csv, io, json, sys, warnings
warnings.simplefilter("ignore")
try:
    import pandas as pd
except ImportError:
    print("SKIP no pandas"); sys.exit(0)
def pandas_rows(data):
    try:
        return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, header=None,
                           names=list(range(64))).values.tolist()
    except Exception:
        return None
def csv_rows(data):
    try:
        return list(csv.reader(io.StringIO(data.decode("latin-1"), newline="")))
    except Exception:
        return None
checked = bad = 0
for line in open(sys.argv[1]):
    text = json.loads(line)
    data = base64.b64decode(text["data"])
    for case in text["cases"]:
        header = base64.b64decode(case["header"])
        for name, read in (("pandas", pandas_rows), ("csv", csv_rows)):
            whole = read(data[case["skip"]:])
            if whole is None:
                continue
            pieces = []
            for off, ln, first in case["ranges"]:
                if name == "pandas" and len(pieces) != first:
                    bad += 1
                    if bad <= 3:
                        print("FIRST_ROW", first, "pandas", len(pieces), repr(data), case["ranges"])
                piece = data[off:off + ln]
                if name == "pandas" and not piece.strip():
                    continue  # blank lines only: pandas refuses them with names=
                got = read(header + b"\n" + piece)
                pieces += got[1:] if got else [("unreadable", off)]
            checked += 1
            if pieces != whole[1:]:
                bad += 1
                if bad <= 3:
                    print("MISMATCH", name, repr(data), case["ranges"])
print("CHECKED", checked, "MISMATCHES", bad)
sys.exit(1 if bad else 0)
)PY";

std::string B64(std::string_view s) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(v >> k) & 63];
  }
  if (i < s.size()) {
    uint32_t v = uint8_t(s[i]) << 16;
    if (i + 1 < s.size()) v |= uint8_t(s[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < s.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

TEST(ByteRangesTest, PandasAndPythonCsvReadEveryRowOnceFromTheRanges) {
  auto dir = std::filesystem::temp_directory_path() / ("lote-br-py-" + RandomHex(4));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "check.py") << kDifferentialPy;
  std::mt19937 rng(4181);
  const std::vector<std::string> tokens = {"\"", "\"", ",", ",", "\n", "\n", "a", "1", " ", "\r\n"};
  size_t plans = 0;
  {
    std::ofstream cases(dir / "cases.jsonl");
    for (int round = 0; round < 60; ++round) {
      const bool bom = round % 5 == 0;
      std::string text = std::string(bom ? "\xEF\xBB\xBF" : "") + "h1,h2\n";
      std::uniform_int_distribution<int> len(1, 30), pick(0, static_cast<int>(tokens.size()) - 1);
      for (int i = len(rng); i > 0; --i) text += tokens[static_cast<size_t>(pick(rng))];
      nlohmann::json line = {{"data", B64(text)}, {"cases", nlohmann::json::array()}};
      for (uint64_t target = 1; target < text.size(); ++target) {
        RangePlan p = PlanOf(text, TextFormat::kCsv, target, 7);
        if (p.ranges.empty()) continue;
        nlohmann::json ranges = nlohmann::json::array();
        for (const ByteRange& r : p.ranges) ranges.push_back({r.offset, r.length, r.first_row});
        line["cases"].push_back(
            {{"skip", bom ? 3 : 0}, {"header", B64(p.header)}, {"ranges", ranges}});
        ++plans;
      }
      cases << line.dump() << "\n";
    }
  }
  const std::string cmd = "/usr/bin/python3 " + (dir / "check.py").string() + " " +
                          (dir / "cases.jsonl").string() + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = ::pclose(pipe);
  std::filesystem::remove_all(dir);
  if (out.starts_with("SKIP")) GTEST_SKIP() << "/usr/bin/python3 has no pandas";
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("MISMATCHES 0"), std::string::npos) << out;
  EXPECT_GT(plans, 500u);
}

TEST(ByteRangesTest, PlansAFileAndNamesOneItCannotRead) {
  auto dir = std::filesystem::temp_directory_path() / ("lote-br-" + RandomHex(4));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a.csv") << "x,y\n1,\"2\n3\"\n4,5\n";
  auto p = PlanByteRanges(dir / "a.csv", TextFormat::kCsv, 1);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->header, "x,y");
  EXPECT_EQ(p->ranges, (std::vector<ByteRange>{{4, 8, 0, 2}, {12, 4, 1, 4}}));
  auto missing = PlanByteRanges(dir / "caf\xe9.csv", TextFormat::kCsv, 1);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(),
            "cannot open '" + (dir / "caf\\xe9.csv").string() + "': No such file or directory");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lote::jobs
