// A JSON Lines reader for numeric tabular scoring: the named keys of each
// line's object (of a whole .jsonl/.ndjson file, or of a line-aligned byte
// range of one) into a dense row-major float matrix, the same CsvChunk the
// CSV reader fills (native/csv_reader.h), so the scorer treats both alike.
//
// Format: one JSON object per line, lines ending in "\n" (a '\r' before it
// is whitespace); the last line may lack its "\n". Blank lines (only spaces,
// tabs, '\r') are skipped and are not rows. A UTF-8 byte order mark at the
// start of the file is skipped. Each line is parsed with simdjson (DOM,
// fully validated).
//
// Columns: the requested keys, in the requested order (a JSON Lines file has
// no header, so the caller must name them: the MLmodel signature,
// options.columns or the model's feature names); other keys are ignored; when
// a key occurs twice in an object, the first is used. Values: a number (as
// double, then rounded to float, as the CSV reader and pandas + XGBoost do),
// true/false (1, 0), null (a missing value: NaN, as XGBoost treats it).
//
// Row errors, which fail only their row (it keeps its row index, so the good
// rows' keys stay aligned with the input): a line that is not valid JSON, a
// line that is not an object, a requested key that is missing, a value that
// is a string, an array or an object. The message says why: "not valid JSON
// (TAPE_ERROR: ...)", "key 'fare' is missing", "key 'fare': a string, not a
// number". The scorer adds the file and the line (or byte offset).
//
// Row keys: as the CSV reader's (row of the file — of a range, counted from
// CsvSource::first_row —, absolute byte offset, 1-based line of the file, for
// a range counted from CsvSource::first_line or 0 without it).
//
// Passthrough (CsvSource::passthrough): the named keys' values follow each
// good row as text (CsvChunk::passthrough): a string as its text, numbers,
// true/false and arrays/objects as JSON text, null as an empty cell; a row
// whose object lacks a passthrough key is a row error. With passthrough_all
// the keys are those of the file's first object (its first line that is not
// blank), in order, for every range of the file alike.
//
// Limits: a line (with its line end) may be at most
// CsvSource::max_record_bytes long: a longer one is an error of the whole
// source naming the file, the line or byte and the limit, as for CSV. The
// file is read through one growing buffer, with simdjson's padding after it,
// so lines are parsed in place without a copy.
//
// Thread-compatible: one reader per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "native/csv_reader.h"

namespace simdjson::dom {
class parser;
}

namespace lote::native {

// One line's object into values: pure, reusable for every line (the parser
// keeps its buffers). Exposed for tests and the fuzzer.
class JsonlLineParser {
 public:
  explicit JsonlLineParser(std::vector<std::string> columns);
  ~JsonlLineParser();
  JsonlLineParser(const JsonlLineParser&) = delete;
  JsonlLineParser& operator=(const JsonlLineParser&) = delete;

  const std::vector<std::string>& columns() const { return columns_; }
  // Parses `line` into out[0, columns().size()). The bytes after the line up
  // to `padded` bytes in all must be readable (simdjson reads ahead); with
  // padded < line.size() + 64 the line is copied first. On a row error,
  // returns false and sets *column (the key at fault, or empty) and
  // *message.
  bool Parse(std::string_view line, size_t padded, float* out, std::string* column,
             std::string* message);
  // After a Parse that returned true: appends ",<value>" for each key of
  // `keys` (RFC 4180 quoting) to *out: a string's text, a number, true/false
  // or an array/object as JSON text, nothing for null. False, with *column
  // and *message set, when a key is missing from the line's object.
  bool Passthrough(const std::vector<std::string>& keys, std::string* out, std::string* column,
                   std::string* message);
  // The keys of the object on `line`, in order, each once; an error (a
  // message) when the line is not a JSON object.
  Result<std::vector<std::string>> KeysOf(std::string_view line);

 private:
  std::vector<std::string> columns_;
  std::unique_ptr<simdjson::dom::parser> parser_;
  std::vector<char> seen_;  // per column: set by this line
  std::string_view last_line_;  // the line Parse last read (it parsed as an object)
  size_t last_padded_ = 0;
};

class JsonlReader {
 public:
  // Opens the source (a CsvSource: path, name, range; its header is
  // ignored). InvalidArgument when columns is empty (a JSON Lines file does
  // not name its columns); IoError when the file cannot be read.
  static Result<std::unique_ptr<JsonlReader>> Open(const CsvSource& source,
                                                   std::vector<std::string> columns);
  ~JsonlReader();
  JsonlReader(const JsonlReader&) = delete;
  JsonlReader& operator=(const JsonlReader&) = delete;

  const std::vector<std::string>& columns() const { return line_.columns(); }
  // The passthrough keys (CsvSource::passthrough; with passthrough_all, the
  // keys of the file's first object, in its order).
  const std::vector<std::string>& passthrough() const { return passthrough_; }

  // Reads the next rows, at most max_rows (good and bad both count), into
  // *chunk (cleared first). False, with an empty chunk, at the end. IoError
  // on a read failure; InvalidArgument for a line over max_record_bytes.
  Result<bool> Next(size_t max_rows, CsvChunk* chunk);

 private:
  explicit JsonlReader(std::vector<std::string> columns) : line_(std::move(columns)) {}
  Status Fill();
  std::string Name() const;
  // The error for the line at the buffer's start, over max_record_bytes.
  Error LineTooLong() const;

  // The keys of the file's first line that is not blank (passthrough_all).
  Result<std::vector<std::string>> FirstObjectKeys();

  CsvSource source_;
  JsonlLineParser line_;
  std::vector<std::string> passthrough_;
  int fd_ = -1;
  std::vector<char> buf_;         // capacity_ bytes of data, then the padding
  size_t capacity_ = 0;
  size_t begin_ = 0, end_ = 0;    // unparsed bytes: buf_[begin_, end_)
  uint64_t buf_file_offset_ = 0;  // file offset of buf_[0]
  uint64_t read_pos_ = 0;
  uint64_t read_end_ = 0;
  bool eof_ = false;
  bool bom_checked_ = false;
  int64_t next_row_ = 0;
  int64_t next_line_ = 0;  // 0 for ranges
};

}  // namespace lote::native
