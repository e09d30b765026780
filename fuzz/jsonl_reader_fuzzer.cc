// The native JSON Lines reader (native/jsonl_reader.h) and its line parser
// on any file: the input of a no-code job is whatever the user's datastore
// holds. Input: a flags byte (bit 0: also read the file in byte ranges;
// bits 1-7: the ranges' target size, 1 + 16 * (flags >> 1) bytes), a
// max_rows byte, a line naming the requested keys (comma-separated; empty:
// the key "a"), then the file.
//
// Invariants: nothing crashes or throws (simdjson reads only the padding it
// is promised); every chunk is consistent (values = rows x columns, at most
// max_rows rows, row numbers consecutive over good and bad rows, byte
// offsets increasing inside the source); how the rows are chunked changes
// nothing; and the file cut into line-aligned byte ranges by the planner
// (jobs/byte_ranges.h, as a job with a byte mini_batch_size cuts it) gives
// exactly the rows of the whole file, in order, with the same values and
// the same row errors. Each line parsed on its own, copied without padding,
// gives the same row as the reader.
#include <cstring>
#include <optional>
#include <vector>

#include "fuzz_util.h"
#include "jobs/byte_ranges.h"
#include "native/jsonl_reader.h"

using lote::fuzz::FuzzCheck;
using lote::fuzz::InputReader;
using lote::fuzz::ScratchFile;
namespace native = lote::native;

namespace {

struct Rows {
  std::vector<native::RowKey> keys;
  std::vector<float> values;
  std::vector<native::RowError> errors;
};

bool SameKeys(const native::RowKey& a, const native::RowKey& b, bool compare_lines) {
  return a.row == b.row && a.byte_offset == b.byte_offset && (!compare_lines || a.line == b.line);
}

void CheckSame(const Rows& a, const Rows& b, bool compare_lines, const char* what) {
  FuzzCheck(a.keys.size() == b.keys.size() && a.errors.size() == b.errors.size(),
            std::string(what) + ": a different number of rows");
  for (size_t i = 0; i < a.keys.size(); ++i) {
    FuzzCheck(SameKeys(a.keys[i], b.keys[i], compare_lines), std::string(what) + ": row keys differ");
  }
  FuzzCheck(a.values.size() == b.values.size() &&
                (a.values.empty() ||
                 std::memcmp(a.values.data(), b.values.data(), a.values.size() * sizeof(float)) == 0),
            std::string(what) + ": values differ");
  for (size_t i = 0; i < a.errors.size(); ++i) {
    FuzzCheck(SameKeys(a.errors[i].key, b.errors[i].key, compare_lines) &&
                  a.errors[i].message == b.errors[i].message,
              std::string(what) + ": row errors differ");
  }
}

std::optional<Rows> ReadAll(const native::CsvSource& source, const std::vector<std::string>& columns,
                            size_t max_rows, uint64_t file_size) {
  auto reader = native::JsonlReader::Open(source, columns);
  FuzzCheck(reader.has_value(), "Open() failed on a memfd");
  const uint64_t begin = source.offset;
  const uint64_t end = source.length ? source.offset + *source.length : file_size;
  const size_t ncols = columns.size();
  Rows out;
  native::CsvChunk chunk;
  int64_t next_row = source.first_row.value_or(0);
  uint64_t last_offset = 0;
  bool first = true;
  for (uint64_t round = 0;; ++round) {
    FuzzCheck(round <= file_size + 2, "Next() does not reach the end of the source");
    auto more = (*reader)->Next(max_rows, &chunk);
    if (!more) return std::nullopt;  // a line over the limit: the source fails
    FuzzCheck(chunk.num_columns == ncols && chunk.values.size() == chunk.rows() * ncols,
              "a chunk's values are not rows x columns");
    FuzzCheck(chunk.rows() + chunk.errors.size() <= max_rows, "a chunk holds more than max_rows rows");
    if (!*more) {
      FuzzCheck(chunk.rows() == 0 && chunk.errors.empty(), "the last Next() returned rows");
      break;
    }
    size_t g = 0, b = 0;
    while (g < chunk.keys.size() || b < chunk.errors.size()) {
      bool good = b == chunk.errors.size() ||
                  (g < chunk.keys.size() && chunk.keys[g].row < chunk.errors[b].key.row);
      const native::RowKey& k = good ? chunk.keys[g++] : chunk.errors[b++].key;
      FuzzCheck(k.row == next_row++, "row numbers are not consecutive");
      FuzzCheck(k.byte_offset >= begin && k.byte_offset < end, "a row starts outside its source");
      FuzzCheck(first || k.byte_offset > last_offset, "row offsets do not increase");
      FuzzCheck(source.is_range() && !source.first_line ? k.line == 0 : k.line >= 1, "a row's line is wrong");
      last_offset = k.byte_offset;
      first = false;
    }
    out.keys.insert(out.keys.end(), chunk.keys.begin(), chunk.keys.end());
    out.values.insert(out.values.end(), chunk.values.begin(), chunk.values.end());
    out.errors.insert(out.errors.end(), chunk.errors.begin(), chunk.errors.end());
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ScratchFile file;
  InputReader in(data, size);
  const uint8_t flags = in.Byte();
  const size_t max_rows = 1 + in.Byte() % 64;
  std::vector<std::string> columns;
  std::string_view names = in.Line();
  if (names.empty()) names = "a";
  for (size_t start = 0;;) {
    size_t comma = names.find(',', start);
    columns.emplace_back(names.substr(start, comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  const std::string_view body = in.Rest();
  file.Set(body);

  auto whole = ReadAll(native::CsvSource::WholeFile(file.path()), columns, max_rows, body.size());
  if (!whole) return 0;
  auto one_chunk = ReadAll(native::CsvSource::WholeFile(file.path()), columns, size_t{1} << 20, body.size());
  FuzzCheck(one_chunk.has_value(), "the second read failed");
  CheckSame(*whole, *one_chunk, true, "chunked and unchunked reads");

  // Every good row again through the line parser alone, on an unpadded copy.
  native::JsonlLineParser parser(columns);
  std::vector<float> row(columns.size());
  std::string column, message;
  for (size_t i = 0; i < whole->keys.size(); ++i) {
    const size_t at = whole->keys[i].byte_offset;
    size_t nl = body.find('\n', at);
    std::string line(body.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at));
    FuzzCheck(parser.Parse(line, line.size(), row.data(), &column, &message),
              "the line parser refuses a line the reader took: " + message);
    FuzzCheck(std::memcmp(row.data(), whole->values.data() + i * columns.size(),
                          columns.size() * sizeof(float)) == 0,
              "the line parser's values differ from the reader's");
  }

  if ((flags & 1) == 0) return 0;
  const uint64_t target = 1 + 16 * static_cast<uint64_t>(flags >> 1);
  lote::jobs::RangeSplitter splitter(lote::jobs::TextFormat::kLines, target);
  splitter.Feed(body);
  const lote::jobs::RangePlan plan = splitter.Finish();
  if (plan.ranges.empty()) return 0;
  Rows ranges;
  for (const lote::jobs::ByteRange& r : plan.ranges) {
    // Numbered from the planner's first_row and first_line: as in the file.
    native::CsvSource source = native::CsvSource::Range(file.path(), r.offset, r.length, "");
    source.first_row = static_cast<int64_t>(r.first_row);
    source.first_line = static_cast<int64_t>(r.first_line);
    auto part = ReadAll(source, columns, max_rows, body.size());
    FuzzCheck(part.has_value(), "the whole file reads but its range at " + std::to_string(r.offset) + " does not");
    ranges.keys.insert(ranges.keys.end(), part->keys.begin(), part->keys.end());
    ranges.values.insert(ranges.values.end(), part->values.begin(), part->values.end());
    ranges.errors.insert(ranges.errors.end(), part->errors.begin(), part->errors.end());
  }
  CheckSame(*whole, ranges, true, "the whole file and its byte ranges");
  return 0;
}
