#include "jobs/output_convert.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "common/float_text.h"
#include "parquet/writer.h"

namespace lote::jobs {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct Field {
  std::string text;
  bool quoted = false;
  bool IsNull() const { return text.empty() && !quoted; }
};

// RFC 4180 records from a file descriptor, from offset 0, through one buffer.
class CsvRecords {
 public:
  explicit CsvRecords(int fd) : fd_(fd) {}

  // The next record into fields; false at the end of the file. Blank lines
  // are skipped (the workers write none).
  Result<bool> Next(std::vector<Field>& fields) {
    while (true) {
      fields.clear();
      ++line_;
      record_line_ = line_;
      if (!Fill()) return IoError(error_);
      if (pos_ >= end_) return false;
      Field f;
      bool in_quotes = false, after_quote = false;
      while (true) {
        if (pos_ >= end_ && !Fill()) return IoError(error_);
        if (pos_ >= end_) {
          if (in_quotes) {
            return InvalidArgument("line " + std::to_string(record_line_) + ": a quoted field is never closed");
          }
          break;
        }
        char c = buf_[pos_++];
        if (in_quotes) {
          if (c == '"') {
            if (pos_ >= end_ && !Fill()) return IoError(error_);
            if (pos_ < end_ && buf_[pos_] == '"') {
              f.text.push_back('"');
              ++pos_;
            } else {
              in_quotes = false;
              after_quote = true;
            }
          } else {
            if (c == '\n') ++line_;
            f.text.push_back(c);
          }
          continue;
        }
        if (c == ',') {
          fields.push_back(std::move(f));
          f = Field{};
          after_quote = false;
          continue;
        }
        if (c == '\n') break;
        if (c == '"' && f.text.empty() && !after_quote) {
          in_quotes = true;
          f.quoted = true;
          continue;
        }
        f.text.push_back(c);
      }
      if (!f.text.empty() && f.text.back() == '\r' && !after_quote) f.text.pop_back();
      fields.push_back(std::move(f));
      if (fields.size() == 1 && fields[0].IsNull()) continue;  // a blank line
      return true;
    }
  }
  int64_t line() const { return record_line_; }

 private:
  // Makes sure pos_ < end_ unless at the end of the file; false on a read error.
  bool Fill() {
    if (pos_ < end_ || eof_) return true;
    while (true) {
      ssize_t n = ::pread(fd_, buf_.data(), buf_.size(), offset_);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error_ = std::string("cannot read the assembled rows: ") + std::strerror(errno);
        return false;
      }
      offset_ += n;
      pos_ = 0;
      end_ = static_cast<size_t>(n);
      if (n == 0) eof_ = true;
      return true;
    }
  }

  int fd_;
  std::vector<char> buf_ = std::vector<char>(1 << 20);
  size_t pos_ = 0, end_ = 0;
  off_t offset_ = 0;
  bool eof_ = false;
  int64_t line_ = 0, record_line_ = 0;
  std::string error_;
};

enum class Kind { kNone, kInt, kDouble, kBool, kString };

bool ParseInt(std::string_view s, int64_t* v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseDouble(std::string_view s, double* v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

// 1 true, 0 false, -1 not a boolean.
int ParseBool(std::string_view s) {
  if (s == "True" || s == "true") return 1;
  if (s == "False" || s == "false") return 0;
  return -1;
}

Kind Widen(Kind k, const Field& f) {
  if (f.IsNull() || k == Kind::kString) return k;
  int64_t i;
  double d;
  if (ParseInt(f.text, &i)) return k == Kind::kNone || k == Kind::kInt ? Kind::kInt : k == Kind::kDouble ? Kind::kDouble : Kind::kString;
  if (ParseDouble(f.text, &d)) return k == Kind::kNone || k == Kind::kInt || k == Kind::kDouble ? Kind::kDouble : Kind::kString;
  if (ParseBool(f.text) >= 0) return k == Kind::kNone || k == Kind::kBool ? Kind::kBool : Kind::kString;
  return Kind::kString;
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return IoError(std::string("cannot write the output: ") + std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(w));
  }
  return {};
}

// Buffers small writes into large ones.
class BufferedOut {
 public:
  explicit BufferedOut(int fd) : fd_(fd) {}
  Status Put(std::string_view s) {
    buf_.append(s);
    if (buf_.size() >= (size_t{1} << 20)) return Flush();
    return {};
  }
  Status Flush() {
    Status st = WriteAll(fd_, buf_);
    buf_.clear();
    return st;
  }

 private:
  int fd_;
  std::string buf_;
};

Error AtLine(const CsvRecords& in, std::string msg) {
  return InvalidArgument("the assembled rows, line " + std::to_string(in.line()) + ": " + msg);
}

// Pass 2's next data row: the header (while *skip_header) passed over, and
// as wide as the header pass 1 read.
Result<bool> NextDataRow(CsvRecords& in, std::vector<Field>& fields, bool* skip_header, size_t width) {
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool more, in.Next(fields));
    if (!more) return false;
    if (std::exchange(*skip_header, false)) continue;
    if (fields.size() != width) return AtLine(in, "the rows changed while they were converted");
    return true;
  }
}

}  // namespace

Result<OutputFormat> ParseOutputFormat(std::string_view s) {
  std::string f = Lower(s);
  if (f == "csv") return OutputFormat::kCsv;
  if (f == "parquet") return OutputFormat::kParquet;
  if (f == "jsonl") return OutputFormat::kJsonl;
  return InvalidArgument("output_format must be csv, parquet or jsonl, got '" + std::string(s) + "'");
}

std::string_view OutputFormatName(OutputFormat f) {
  switch (f) {
    case OutputFormat::kCsv: return "csv";
    case OutputFormat::kParquet: return "parquet";
    case OutputFormat::kJsonl: return "jsonl";
  }
  return "csv";
}

std::string OutputFileNameFor(const std::string& name, OutputFormat format) {
  if (format == OutputFormat::kCsv) return name;
  const std::string ext = "." + std::string(OutputFormatName(format));
  const std::string lower = Lower(name);
  if (lower.ends_with(ext) && lower.size() > ext.size()) return name;
  if (lower.ends_with(".csv") && lower.size() > 4) return name.substr(0, name.size() - 4) + ext;
  return name + ext;
}

Result<int64_t> ConvertCsvOutput(int in_fd, int out_fd, OutputFormat format, const ConvertOptions& options) {
  if (format == OutputFormat::kCsv) return InvalidArgument("the output is CSV already: nothing to convert");
  std::vector<std::string> names;
  std::vector<Kind> kinds;
  std::vector<Field> fields;
  // Pass 1: the columns and their types.
  {
    CsvRecords in(in_fd);
    bool first = true;
    while (true) {
      LOTE_ASSIGN_OR_RETURN(bool more, in.Next(fields));
      if (!more) break;
      if (first) {
        first = false;
        if (options.has_header) {
          for (const Field& f : fields) names.push_back(f.text);
          kinds.assign(names.size(), Kind::kNone);
          continue;
        }
        for (size_t i = 0; i < fields.size(); ++i) names.push_back("column_" + std::to_string(i));
        kinds.assign(names.size(), Kind::kNone);
      }
      if (fields.size() != names.size()) {
        return AtLine(in, "a row of " + std::to_string(fields.size()) + " fields; the header has " +
                              std::to_string(names.size()));
      }
      for (size_t i = 0; i < fields.size(); ++i) kinds[i] = Widen(kinds[i], fields[i]);
    }
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (kinds[i] == Kind::kNone || names[i] == "file") kinds[i] = Kind::kString;
  }

  // Pass 2: the rows.
  CsvRecords in(in_fd);
  int64_t rows = 0;
  if (format == OutputFormat::kParquet) {
    std::vector<parquet::WriterColumn> cols;
    for (size_t i = 0; i < names.size(); ++i) {
      parquet::WriterType t = kinds[i] == Kind::kInt      ? parquet::WriterType::kInt64
                              : kinds[i] == Kind::kDouble ? parquet::WriterType::kDouble
                              : kinds[i] == Kind::kBool   ? parquet::WriterType::kBoolean
                                                          : parquet::WriterType::kString;
      cols.push_back({names[i], t});
    }
    if (cols.empty()) cols.push_back({"prediction", parquet::WriterType::kString});  // no rows at all
    BufferedOut out(out_fd);
    LOTE_ASSIGN_OR_RETURN(auto writer,
                          parquet::Writer::Create(cols,
                                                  {.codec = parquet::Codec::kZstd,
                                                   .row_group_rows = options.row_group_rows},
                                                  [&](std::string_view b) { return out.Put(b); }));
    bool skip_header = options.has_header;
    while (true) {
      LOTE_ASSIGN_OR_RETURN(bool more, NextDataRow(in, fields, &skip_header, names.size()));
      if (!more) break;
      for (size_t i = 0; i < fields.size(); ++i) {
        const Field& f = fields[i];
        if (f.IsNull()) {
          writer->Null();
          continue;
        }
        int64_t iv = 0;
        double dv = 0;
        switch (kinds[i]) {
          case Kind::kInt:
            if (!ParseInt(f.text, &iv)) return AtLine(in, "the rows changed while they were converted");
            writer->Int64(iv);
            break;
          case Kind::kDouble:
            if (!ParseDouble(f.text, &dv)) return AtLine(in, "the rows changed while they were converted");
            writer->Double(dv);
            break;
          case Kind::kBool: writer->Bool(ParseBool(f.text) == 1); break;
          default: writer->String(f.text); break;
        }
      }
      LOTE_TRY(writer->EndRow());
      ++rows;
    }
    LOTE_TRY(writer->Finish());
    LOTE_TRY(out.Flush());
    return rows;
  }

  // JSON Lines.
  std::vector<std::string> keys;
  for (const std::string& n : names) {
    keys.push_back(nlohmann::json(n).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  BufferedOut out(out_fd);
  std::string line;
  bool skip_header = options.has_header;
  while (true) {
    LOTE_ASSIGN_OR_RETURN(bool more, NextDataRow(in, fields, &skip_header, names.size()));
    if (!more) break;
    line.clear();
    line.push_back('{');
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) line.push_back(',');
      line += keys[i];
      line.push_back(':');
      const Field& f = fields[i];
      double dv = 0;
      if (f.IsNull()) {
        line += "null";
      } else if (kinds[i] == Kind::kInt) {
        int64_t iv = 0;
        if (!ParseInt(f.text, &iv)) return AtLine(in, "the rows changed while they were converted");
        line += std::to_string(iv);
      } else if (kinds[i] == Kind::kDouble) {
        if (!ParseDouble(f.text, &dv)) return AtLine(in, "the rows changed while they were converted");
        if (!std::isfinite(dv)) {
          line += "null";
        } else {
          char buf[kShortestDoubleChars];
          line.append(buf, WriteShortest(dv, buf));
        }
      } else if (kinds[i] == Kind::kBool) {
        line += ParseBool(f.text) == 1 ? "true" : "false";
      } else {
        line += nlohmann::json(f.text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
    }
    line += "}\n";
    LOTE_TRY(out.Put(line));
    ++rows;
  }
  LOTE_TRY(out.Flush());
  return rows;
}

}  // namespace lote::jobs
