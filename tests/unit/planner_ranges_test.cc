// Byte-range planning (mini_batch_size with a unit) against an independent
// reading of RFC 4180 and against the native CSV reader: for every target
// size from 1 byte past the file's size, the ranges PlanJob stores tile the
// file's body exactly, end only where a record ends, carry the header record
// without its line end or byte order mark, and the rows the reader sees in
// them are the rows it sees in the whole file, each once.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "common/fs_name.h"
#include "common/util.h"
#include "jobs/planner.h"
#include "native/csv_reader.h"
#include "store/sqlite_store.h"

namespace lote::jobs {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kBom = "\xEF\xBB\xBF";

enum class Kind { kCsv, kTsv, kLines };

// The record ends (offsets just past each record's line end, or the end of
// the text) of text[from, …): a record is fields separated by `delim` and
// ended by '\n'; a field that starts with '"' runs to the next '"' that is
// not doubled, then to the delimiter or line end. Lines: every '\n' ends one.
std::vector<size_t> RecordEnds(std::string_view text, size_t from, Kind kind,
                               size_t* bare_cr = nullptr) {
  const char delim = kind == Kind::kTsv ? '\t' : ',';
  std::vector<size_t> ends;
  size_t first_bare_cr = std::string_view::npos;
  auto unquoted = [&](size_t at) {
    if (text[at] == '\r' && (at + 1 == text.size() || text[at + 1] != '\n')) {
      first_bare_cr = std::min(first_bare_cr, at);
    }
  };
  size_t p = from;
  while (p < text.size()) {
    if (kind == Kind::kLines) {
      size_t nl = text.find('\n', p);
      p = nl == std::string_view::npos ? text.size() : nl + 1;
      ends.push_back(p);
      continue;
    }
    // One record: fields until a '\n' outside quotes.
    while (true) {
      if (p < text.size() && text[p] == '"') {
        ++p;
        while (p < text.size()) {
          if (text[p] == '"' && p + 1 < text.size() && text[p + 1] == '"') {
            p += 2;
          } else if (text[p] == '"') {
            break;
          } else {
            ++p;
          }
        }
        if (p < text.size()) ++p;  // the closing quote; none: unterminated to the end
      }
      while (p < text.size() && text[p] != delim && text[p] != '\n') unquoted(p++);
      if (p < text.size() && text[p] == delim) {
        ++p;
        continue;
      }
      break;
    }
    if (p < text.size()) ++p;  // the '\n'
    ends.push_back(p);
  }
  if (bare_cr != nullptr) *bare_cr = kind == Kind::kLines ? std::string_view::npos : first_bare_cr;
  return ends;
}

// What the native reader sees of each data row, in order: where it starts
// and its values or its error.
std::vector<std::string> ReaderRows(const native::CsvSource& source) {
  std::vector<std::string> rows;
  auto reader = native::CsvReader::Open(source, {});
  if (!reader) return {"open failed: " + reader.error().message()};
  native::CsvChunk chunk;
  while (true) {
    auto more = (*reader)->Next(3, &chunk);
    if (!more) return {"read failed: " + more.error().message()};
    if (!*more) break;
    // Keys and errors are each in input order; merge them by offset.
    size_t k = 0, e = 0;
    while (k < chunk.keys.size() || e < chunk.errors.size()) {
      bool take_key = e == chunk.errors.size() ||
                      (k < chunk.keys.size() &&
                       chunk.keys[k].byte_offset < chunk.errors[e].key.byte_offset);
      if (take_key) {
        std::string row = "@" + std::to_string(chunk.keys[k].byte_offset) + " row " +
                          std::to_string(chunk.keys[k].row) + " line " +
                          std::to_string(chunk.keys[k].line) + ":";
        for (size_t c = 0; c < chunk.num_columns; ++c) {
          row += std::to_string(chunk.values[k * chunk.num_columns + c]) + ";";
        }
        rows.push_back(row);
        ++k;
      } else {
        rows.push_back("@" + std::to_string(chunk.errors[e].key.byte_offset) + " row " +
                       std::to_string(chunk.errors[e].key.row) + " line " +
                       std::to_string(chunk.errors[e].key.line) + ": error " +
                       chunk.errors[e].message);
        ++e;
      }
    }
  }
  return rows;
}

class PlannerRangesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lote-ranges-" + RandomHex(6));
    fs::create_directories(dir_);
    store_ = std::move(*store::OpenSqliteStore({.path = ":memory:"}));
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Plans a folder holding one file `name` = text with mini_batch_size
  // "<target>B"; returns the items of every task, in order.
  std::vector<json> Plan(const std::string& name, std::string_view text, uint64_t target) {
    const std::string job = "j" + std::to_string(++jobs_);
    fs::path in = dir_ / job;
    fs::create_directories(in);
    std::ofstream(in / name, std::ios::binary) << text;
    json doc = {{"name", job}, {"endpoint", "e"}, {"status", "Preparing"},
                {"input", {{"kind", "path"}, {"path", in.string()}}},
                {"settings", {{"mini_batch_size", std::to_string(target) + "B"}}}};
    EXPECT_TRUE(store_->CreateJob(doc));
    auto plan = PlanJob(doc, dir_ / (job + "-dl"), *store_);
    EXPECT_TRUE(plan) << plan.error().message();
    std::vector<json> items;
    if (!plan) return items;
    auto tasks = store_->ListTasks(job, 0, 100000);
    EXPECT_TRUE(tasks);
    for (const auto& t : *tasks) {
      for (const auto& i : t.items) items.push_back(i);
    }
    return items;
  }

  // Checks the plan of `text` for every target size; see the file comment.
  void ExpectExactTiling(const std::string& name, std::string_view text, Kind kind) {
    const size_t body_from = text.starts_with(kBom) ? kBom.size() : 0;
    size_t bare_cr = std::string_view::npos;
    const std::vector<size_t> ends = RecordEnds(text, body_from, kind, &bare_cr);
    const bool has_header = kind != Kind::kLines;
    const size_t body = has_header ? (ends.empty() ? text.size() : ends[0]) : body_from;
    std::string header;
    if (has_header) {
      header = std::string(text.substr(body_from, body - body_from));
      if (header.ends_with("\n")) header.pop_back();
      if (header.ends_with("\r")) header.pop_back();
    }
    std::vector<std::string> whole;
    if (kind == Kind::kCsv) {
      fs::path ref = dir_ / ("ref-" + std::to_string(jobs_)) / name;
      fs::create_directories(ref.parent_path());
      std::ofstream(ref, std::ios::binary) << text;
      whole = ReaderRows(native::CsvSource::WholeFile(ref));
    }
    for (uint64_t target = 1; target <= text.size() + 1; ++target) {
      SCOPED_TRACE(name + " with target " + std::to_string(target) + "B");
      std::vector<json> items = Plan(name, text, target);
      ASSERT_FALSE(items.empty()) << "the file is part of the job";
      if (text.size() <= target || body >= text.size()) {
        ASSERT_EQ(items.size(), 1u);
        EXPECT_FALSE(items[0].contains("offset")) << "small enough or no body: the whole file";
        continue;
      }
      uint64_t at = body;
      std::vector<std::string> seen;
      for (const json& item : items) {
        ASSERT_TRUE(item.contains("offset")) << item.dump();
        const uint64_t off = item["offset"], len = item["length"];
        EXPECT_EQ(off, at) << "ranges tile the body: " << item.dump();
        ASSERT_GT(len, 0u);
        const uint64_t end = off + len;
        EXPECT_TRUE(std::find(ends.begin(), ends.end(), end) != ends.end())
            << "range " << off << "+" << len << " does not end at a record end";
        // The first record end at least `target` bytes in: no record end
        // between. After a bare '\r' (a record end to pandas, not to the
        // native reader) nothing is cut: the rest is one range.
        if (end < text.size()) {
          EXPECT_TRUE(bare_cr == std::string_view::npos || end <= bare_cr)
              << "range " << off << "+" << len << " cut after the bare CR at " << bare_cr;
        }
        for (size_t e : ends) {
          if (e > off && e < end && (bare_cr == std::string_view::npos || e <= bare_cr)) {
            EXPECT_LT(e - off, target) << "range could have ended at " << e;
          }
        }
        if (has_header) {
          ASSERT_TRUE(item.contains("header")) << item.dump();
          EXPECT_EQ(item["header"].get<std::string>(), header);
        } else {
          EXPECT_FALSE(item.contains("header"));
        }
        if (kind == Kind::kCsv) {
          // The planner's first_row/first_line: the range's rows get the
          // keys (row, line) the whole file gives them.
          native::CsvSource src =
              native::CsvSource::Range(*ItemPath(item), off, len, item.value("header", ""));
          src.first_row = item.at("first_row").get<int64_t>();
          src.first_line = item.at("first_line").get<int64_t>();
          auto rows = ReaderRows(src);
          seen.insert(seen.end(), rows.begin(), rows.end());
        }
        at = end;
      }
      EXPECT_EQ(at, text.size()) << "the last range ends at the end of the file";
      if (kind == Kind::kCsv) {
        EXPECT_EQ(seen, whole) << "every row once, keyed as in the whole file";
      }
    }
  }

  fs::path dir_;
  int jobs_ = 0;
  std::unique_ptr<store::SqliteStore> store_;
};

// Quoted fields with line ends, commas and doubled quotes at every position a
// cut could fall on; numbers too, so that the reader's values are compared.
constexpr std::string_view kQuoted =
    "id,text,n\n"
    "1,\"a\nb\",10\n"
    "2,\"x,\"\"y\"\"\nz\n\",20\n"
    "3,plain,30\n"
    "4,\"\n\",40\n"
    "5,\"\",50\n"
    "\n"
    "6,\"q\"\"\n\"\"\",60\n"
    "7,\"last\nline\",70";

TEST_F(PlannerRangesTest, QuotedLineEndsNeverSplitARecord) {
  ExpectExactTiling("data.csv", kQuoted, Kind::kCsv);
}

TEST_F(PlannerRangesTest, CrlfRecordsAndQuotedCrlf) {
  std::string text;
  for (char c : kQuoted) text += c == '\n' ? std::string("\r\n") : std::string(1, c);
  ExpectExactTiling("crlf.csv", text, Kind::kCsv);
}

TEST_F(PlannerRangesTest, ByteOrderMarkIsNotPartOfTheHeaderOrAnyRange) {
  ExpectExactTiling("bom.csv", std::string(kBom) + std::string(kQuoted), Kind::kCsv);
  auto items = Plan("bom.csv", std::string(kBom) + "a,b\n1,2\n3,4\n", 4);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["header"], "a,b");
  EXPECT_EQ(items[0]["offset"], 7);
}

TEST_F(PlannerRangesTest, HeaderRecordMayHoldQuotedLineEnds) {
  ExpectExactTiling("head.csv",
                    "\"i\nd\",\"te,\"\"xt\"\"\"\n1,\"a\nb\"\n2,c\n3,\"\"\"\n\"\"\"\n4,d\n",
                    Kind::kCsv);
}

TEST_F(PlannerRangesTest, UnterminatedQuoteRunsToTheEndOfTheFile) {
  ExpectExactTiling("open.csv", "id,t\n1,a\n2,\"never closed\n3,x\n4,y\n", Kind::kCsv);
  auto items = Plan("open.csv", "id,t\n1,a\n2,\"never closed\n3,x\n4,y\n", 2);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1]["offset"], 9);
  EXPECT_EQ(items[1]["length"], 24) << "the rest is one range";
}

TEST_F(PlannerRangesTest, ExtensionsAreCaseInsensitive) {
  ExpectExactTiling("DATA.CSV", kQuoted, Kind::kCsv);
  ExpectExactTiling("Data.Csv", kQuoted, Kind::kCsv);
  std::string tsv = "id\ttext\n1\t\"a\nb\"\n2\t\"x\ty\"\n3\tz\n";
  ExpectExactTiling("DATA.TSV", tsv, Kind::kTsv);
  ExpectExactTiling("LOG.TXT", "a\n\"b\nc\n", Kind::kLines);
}

TEST_F(PlannerRangesTest, PlainLinesAreCutAtEveryLineEndWhateverTheQuotes) {
  std::string jsonl = "{\"a\": \"x\\\"\"}\n\"\n{\"b\": 2}\r\n\n{\"c\": \"3\"}";
  ExpectExactTiling("events.jsonl", jsonl, Kind::kLines);
  ExpectExactTiling("EVENTS.NDJSON", jsonl, Kind::kLines);
  ExpectExactTiling("bom.jsonl", std::string(kBom) + jsonl, Kind::kLines);
}

TEST_F(PlannerRangesTest, HeaderOnlyFileStaysOneWholeFileItem) {
  for (std::string text : {"a,b,c,d,e\n", "a,b,c,d,e", "\xEF\xBB\xBF" "a,b\n", "\"a\nb\",c\n"}) {
    auto items = Plan("h.csv", text, 2);
    ASSERT_EQ(items.size(), 1u) << text;
    EXPECT_FALSE(items[0].contains("offset")) << text;
  }
}

// Random small CSV texts built from quotes, delimiters and line ends (most
// of them not valid CSV): the tiling holds for each at every target.
TEST_F(PlannerRangesTest, RandomTextsTileExactly) {
  std::mt19937 rng(20261128);
  const std::string alphabet = "\"\",,\n\n\r1a";
  for (int round = 0; round < 40; ++round) {
    std::string text = "h1,h2\n";
    std::uniform_int_distribution<int> len(1, 40), pick(0, static_cast<int>(alphabet.size()) - 1);
    for (int i = len(rng); i > 0; --i) text += alphabet[static_cast<size_t>(pick(rng))];
    SCOPED_TRACE("text: " + json(text).dump());
    ExpectExactTiling("r" + std::to_string(round) + ".csv", text, Kind::kCsv);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace lote::jobs
