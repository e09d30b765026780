// Cutting a large text file into byte ranges, for a mini_batch_size with a
// unit ("64MB"): one sequential scan that knows where records end.
//
// Formats, by the file name's extension, whatever its case:
//   .csv         RFC 4180 records: fields separated by ',', a record ends at
//                a '\n' outside quotes ("\r\n" too: the '\r' is part of the
//                line end); a field that starts with '"' is quoted up to the
//                next '"' that is not doubled ("" is a quote), and may hold
//                delimiters and line ends. A '"' anywhere else is a plain
//                character. The first record is the header.
//   .tsv         the same with '\t' between fields.
//   .jsonl, .ndjson, .txt   one record per line; no quoting, no header.
//   anything else is never split.
// This is how lote's readers read (native/csv_reader.h, the Python runner's
// tabular driver via pandas): a range holds whole records only, so every
// reader sees each row of the file in exactly one range.
//
// A '\r' outside quotes that is not part of a "\r\n" ends a record for pandas
// and Python's csv module but not for the native reader: from there on the
// readers may disagree on where records (and quotes) are, so the planner cuts
// no more ranges after one: the rest of the file is one range. (A file with
// only '\r' line ends, as old Mac spreadsheets write, is not split at all.)
//
// A UTF-8 byte order mark at the start of the file belongs to no range and
// not to the header. The header (CSV/TSV) is the first record that is not
// blank (nothing but spaces and tabs before its "\n" or "\r\n": the readers
// skip blank lines before it too), without
// its line end; it may hold quoted line ends. Ranges tile the rest of the file:
// each ends at the first record end at least `target` bytes after its start
// (or at the end of the file), so a record longer than the target is a range
// of its own, and a quote left open runs to the end of the file as one range
// (the reader then reports that row). A file whose body is empty, or whose
// header is longer than kMaxCarriedHeaderBytes (it would travel in every
// range's item), is not split: the plan has no ranges and the caller keeps
// the file whole.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lote::jobs {

enum class TextFormat { kOther, kCsv, kTsv, kLines };

// The format of a file by its name's extension, ignoring case.
TextFormat TextFormatOf(std::string_view file_name);

inline constexpr size_t kMaxCarriedHeaderBytes = size_t{1} << 20;

struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t first_row = 0;   // data rows (not blank, not the header) before offset
  uint64_t first_line = 1;  // the 1-based line of the file at offset
  bool operator==(const ByteRange&) const = default;
};

struct RangePlan {
  std::string header;         // CSV/TSV: the header record, no line end, no BOM
  uint64_t body_offset = 0;   // after the BOM and the header record
  uint64_t size = 0;          // the bytes scanned
  std::vector<ByteRange> ranges;  // tile [body_offset, size); empty: keep the file whole
  bool header_too_long = false;
};

// The scan, fed the file's bytes in order (pure: no I/O, any chunking gives
// the same plan). target 0 is taken as 1.
class RangeSplitter {
 public:
  RangeSplitter(TextFormat format, uint64_t target,
                size_t max_header_bytes = kMaxCarriedHeaderBytes);
  void Feed(std::string_view bytes);
  // True once the plan is known not to split the file (a header too long):
  // the rest of the file need not be fed.
  bool gave_up() const { return plan_.header_too_long; }
  // The plan of everything fed; call once.
  RangePlan Finish();

 private:
  void Start();  // decides on a byte order mark, then consumes the first bytes
  void Consume(std::string_view bytes);
  // The index just past the next record end in bytes[from, …), or npos; the
  // quote state carries across calls.
  size_t NextRecordEnd(std::string_view bytes, size_t from);
  // Looks for a '\r' outside quotes in bytes[from, to) that is not the
  // first half of the "\r\n" ending at line_end (npos: none in bytes).
  void NoteCarriageReturns(std::string_view bytes, size_t from, size_t to, size_t line_end);
  void RecordEnd(uint64_t end);
  // Notes whether bytes (part of the current record) hold anything but
  // blanks; a record that never does is not a row.
  void NoteContent(std::string_view bytes);

  const TextFormat format_;
  const uint64_t target_;
  const size_t max_header_;
  const char delim_;
  bool started_ = false;
  std::string prefix_;  // the first bytes, until a BOM can be decided on
  uint64_t pos_ = 0;    // file offset of the next byte fed
  bool in_header_;
  bool in_quotes_ = false;
  bool quote_pending_ = false;  // a '"' inside quotes: closing, or the first of ""
  bool field_start_ = true;
  bool cr_pending_ = false;  // the bytes fed so far end in '\r' outside quotes
  bool bare_cr_ = false;     // a '\r' outside quotes that ends no "\r\n": no more cuts
  uint64_t range_start_ = 0;
  bool record_has_content_ = false;  // the current record is not blank (so far)
  bool blank_cr_pending_ = false;    // ... and the bytes fed so far end in a CR
  uint64_t rows_ = 0;                // data rows ended so far
  uint64_t newlines_ = 0;            // '\n' bytes fed so far (after a BOM)
  uint64_t range_first_row_ = 0;     // rows_ at range_start_
  uint64_t range_first_line_ = 1;    // the line at range_start_
  RangePlan plan_;
};

// Scans the file once. IoError naming the file (escaped) when it cannot be
// read.
Result<RangePlan> PlanByteRanges(const std::filesystem::path& path, TextFormat format,
                                 uint64_t target);

}  // namespace lote::jobs
