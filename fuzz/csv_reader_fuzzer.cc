// The native CSV reader (native/csv_reader.h) on any file: the input of a
// no-code job is whatever the user's datastore holds. Input: a flags byte, a
// max_rows byte, a line naming the requested columns (comma-separated; empty
// for all), then the file.
//
// Invariants: nothing crashes or throws; every chunk is consistent (values =
// rows x columns, at most max_rows rows, row numbers consecutive over good
// and bad rows, byte offsets increasing inside the source); how the rows are
// chunked changes nothing; and reading the body as one byte range with the
// header line given gives the rows of the whole file (flags bit 0; skipped
// when the first line holds quotes or a BOM, where the first line is not the
// header record; and, unless LOTE_FUZZ_STRICT=1, when it is blank or ends in
// '\r' before its line end: known open defects, fuzz/pending/csv_reader).
#include <cstring>
#include <optional>
#include <vector>

#include "fuzz_util.h"
#include "native/csv_reader.h"

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

// Reads the whole source max_rows at a time, checking every chunk. nullopt
// when Open fails.
std::optional<Rows> ReadAll(const native::CsvSource& source, const std::vector<std::string>& columns,
                            size_t max_rows, uint64_t file_size) {
  auto reader = native::CsvReader::Open(source, columns);
  if (!reader) return std::nullopt;
  const uint64_t begin = source.offset;
  const uint64_t end = source.length ? source.offset + *source.length : file_size;
  const size_t ncols = (*reader)->columns().size();
  FuzzCheck(columns.empty() || ncols == columns.size(), "columns() is not the requested columns");
  Rows out;
  native::CsvChunk chunk;
  int64_t next_row = 0;
  uint64_t last_offset = 0;
  bool first = true;
  for (uint64_t round = 0;; ++round) {
    FuzzCheck(round <= file_size + 2, "Next() does not reach the end of the source");
    auto more = (*reader)->Next(max_rows, &chunk);
    FuzzCheck(more.has_value(), "Next() failed on a memfd: " + (more ? "" : more.error().message()));
    FuzzCheck(chunk.num_columns == ncols && chunk.values.size() == chunk.rows() * ncols,
              "a chunk's values are not rows x columns");
    FuzzCheck(chunk.rows() + chunk.errors.size() <= max_rows, "a chunk holds more than max_rows rows");
    if (!*more) {
      FuzzCheck(chunk.rows() == 0 && chunk.errors.empty(), "the last Next() returned rows");
      break;
    }
    // Good and bad rows interleave in input order; merge them by row number.
    size_t g = 0, b = 0;
    while (g < chunk.keys.size() || b < chunk.errors.size()) {
      bool good = b == chunk.errors.size() ||
                  (g < chunk.keys.size() && chunk.keys[g].row < chunk.errors[b].key.row);
      const native::RowKey& k = good ? chunk.keys[g++] : chunk.errors[b++].key;
      FuzzCheck(k.row == next_row++, "row numbers are not consecutive");
      FuzzCheck(k.byte_offset >= begin && k.byte_offset < end, "a row starts outside its source");
      FuzzCheck(first || k.byte_offset > last_offset, "row offsets do not increase");
      FuzzCheck(source.is_range() ? k.line == 0 : k.line >= 1, "a row's line is wrong");
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
  if (std::string_view names = in.Line(); !names.empty()) {
    for (size_t start = 0;;) {
      size_t comma = names.find(',', start);
      columns.emplace_back(names.substr(start, comma - start));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  const std::string_view body = in.Rest();
  file.Set(body);

  auto whole = ReadAll(native::CsvSource::WholeFile(file.path()), columns, max_rows, body.size());
  if (!whole) return 0;
  auto one_chunk = ReadAll(native::CsvSource::WholeFile(file.path()), columns, size_t{1} << 20, body.size());
  FuzzCheck(one_chunk.has_value(), "Open() failed the second time");
  CheckSame(*whole, *one_chunk, true, "chunked and unchunked reads");

  size_t nl = body.find('\n');
  if ((flags & 1) == 0 || nl == std::string_view::npos) return 0;
  std::string header(body.substr(0, nl));
  if (!header.empty() && header.back() == '\r') header.pop_back();
  // Ranges take the file's first line as the header; a whole file's header is
  // its first record, without a BOM. Compare only where they agree.
  if (header.find('"') != std::string::npos || header.starts_with("\xEF\xBB\xBF")) return 0;
  // Known: a blank first line is a header of one unnamed column when reading
  // the whole file, and an empty header that fails every range.
  // fuzz/pending/csv_reader/blank_first_line.
  if (header.empty() && !lote::fuzz::Strict()) return 0;
  // Known: a header line "a\r\r\n" is "a\r" read from the whole file but
  // "a" as a range's header (the reader strips a '\r' from a header given
  // without its line end). fuzz/pending/csv_reader/header_ends_in_cr.
  if (!header.empty() && header.back() == '\r' && !lote::fuzz::Strict()) return 0;
  auto range = ReadAll(native::CsvSource::Range(file.path(), nl + 1, body.size() - nl - 1, header),
                       columns, max_rows, body.size());
  FuzzCheck(range.has_value(), "the whole file opens but its body as a range does not");
  CheckSame(*whole, *range, false, "the whole file and its body as one range");
  return 0;
}
