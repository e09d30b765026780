#include "native/csv_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "common/util.h"

namespace lote::native {

namespace {

constexpr size_t kMinBuffer = size_t{4} << 10;
constexpr size_t kMaxInitialBuffer = size_t{1} << 20;
constexpr size_t kMaxErrorText = 64;
constexpr size_t kMaxListedColumns = 20;

enum class Parse { kRecord, kNeedMore };

struct FieldSpan {
  size_t begin = 0;  // relative to the record's first byte
  size_t size = 0;
  bool quoted = false;
  bool escaped = false;  // holds "" pairs, or text after the closing quote
};

size_t CountNewlines(const char* p, size_t n) {
  size_t count = 0;
  const char* end = p + n;
  while (p < end) {
    const void* hit = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (hit == nullptr) break;
    ++count;
    p = static_cast<const char*>(hit) + 1;
  }
  return count;
}

// Parses one record from data[0, n). eof: no bytes follow data[n-1]. On
// kRecord, *consumed counts the record's bytes with its line end and
// *newlines the line ends inside quoted fields. Never reads past n.
Parse ParseRecord(const char* data, size_t n, bool eof, std::vector<FieldSpan>* fields,
                  size_t* consumed, size_t* newlines) {
  fields->clear();
  *newlines = 0;
  size_t p = 0;
  while (true) {
    FieldSpan f;
    if (p < n && data[p] == '"') {
      f.quoted = true;
      f.begin = p + 1;
      size_t q = p + 1;
      while (true) {
        const void* hit = std::memchr(data + q, '"', n - q);
        if (hit == nullptr) {
          if (!eof) return Parse::kNeedMore;
          // An unterminated quote at the end of the source: the rest is the field.
          f.size = n - f.begin;
          p = n;
          break;
        }
        size_t h = static_cast<size_t>(static_cast<const char*>(hit) - data);
        if (h + 1 == n && !eof) return Parse::kNeedMore;
        if (h + 1 < n && data[h + 1] == '"') {
          f.escaped = true;
          q = h + 2;
          continue;
        }
        f.size = h - f.begin;
        p = h + 1;
        break;
      }
      *newlines += CountNewlines(data + f.begin, f.size);
      // Anything but '\r' between the closing quote and the delimiter is
      // malformed; the field is then not a number.
      while (p < n && data[p] != ',' && data[p] != '\n') {
        if (data[p] != '\r') f.escaped = true;
        ++p;
      }
    } else {
      size_t q = p;
      while (q < n && data[q] != ',' && data[q] != '\n') ++q;
      f.begin = p;
      f.size = q - p;
      p = q;
    }
    if (p == n) {
      if (!eof) return Parse::kNeedMore;
      if (!f.quoted && f.size > 0 && data[f.begin + f.size - 1] == '\r') --f.size;
      fields->push_back(f);
      *consumed = n;
      return Parse::kRecord;
    }
    if (data[p] == ',') {
      fields->push_back(f);
      ++p;
      continue;
    }
    // data[p] == '\n'
    if (!f.quoted && f.size > 0 && data[f.begin + f.size - 1] == '\r') --f.size;
    fields->push_back(f);
    *consumed = p + 1;
    return Parse::kRecord;
  }
}

std::string FieldText(const char* rec, const FieldSpan& f) {
  std::string_view raw(rec + f.begin, f.size);
  if (!f.escaped) return std::string(raw);
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    out.push_back(raw[i]);
    if (raw[i] == '"' && i + 1 < raw.size() && raw[i + 1] == '"') ++i;
  }
  return out;
}

// A record of nothing but spaces and tabs (and its line end): pandas skips
// it as a blank line, and so do the planner's row numbers (jobs/byte_ranges.h).
bool IsBlank(const char* rec, const std::vector<FieldSpan>& fields) {
  if (fields.size() != 1 || fields[0].quoted) return false;
  const char* p = rec + fields[0].begin;
  return std::all_of(p, p + fields[0].size, [](char c) { return c == ' ' || c == '\t'; });
}

constexpr std::array<std::string_view, 13> kMissing = {
    "NA", "N/A", "n/a", "NaN", "nan", "-NaN", "-nan", "NULL", "null", "None", "#N/A", "<NA>", ""};

constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                             1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                             1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// Clinger's fast path: at most 15 digits (so the integer they make is exact
// in a double) and a power of ten up to 1e22 (exact too) need one IEEE
// multiplication or division, which rounds correctly: the same double
// from_chars gives, in a fraction of the time. Parses such a decimal at p,
// leaving p after it; false when there is none or it is not that plain.
inline bool FastNumber(const char*& p, const char* end, double* out) {
  bool negative = false;
  if (p < end && (*p == '-' || *p == '+')) negative = *p++ == '-';
  uint64_t mantissa = 0;
  int digits = 0;
  int exp10 = 0;
  while (p < end && static_cast<unsigned>(*p - '0') < 10) {
    mantissa = mantissa * 10 + static_cast<unsigned>(*p++ - '0');
    ++digits;
  }
  if (p < end && *p == '.') {
    ++p;
    while (p < end && static_cast<unsigned>(*p - '0') < 10) {
      mantissa = mantissa * 10 + static_cast<unsigned>(*p++ - '0');
      ++digits;
      --exp10;
    }
  }
  if (digits == 0 || digits > 15) return false;
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    bool negative_exp = false;
    if (p < end && (*p == '-' || *p == '+')) negative_exp = *p++ == '-';
    int e = 0, e_digits = 0;
    while (p < end && static_cast<unsigned>(*p - '0') < 10 && e_digits < 4) {
      e = e * 10 + (*p++ - '0');
      ++e_digits;
    }
    if (e_digits == 0) return false;
    exp10 += negative_exp ? -e : e;
  }
  if (exp10 < -22 || exp10 > 22) return false;
  double d = static_cast<double>(mantissa);
  d = exp10 < 0 ? d / kPow10[-exp10] : d * kPow10[exp10];
  *out = negative ? -d : d;
  return true;
}

}  // namespace

bool FastDecimal(const char* p, size_t n, double* out) {
  const char* end = p + n;
  return FastNumber(p, end, out) && p == end;
}

namespace {

// The common row in one pass: `fields` plain decimals separated by commas
// and ended by "\n" or "\r\n" (or the end of the source), each stored at
// out[column_of_field[i]] when that is >= 0. Returns the bytes consumed, or
// 0 when the row is anything else (quotes, spaces, empty or non-numeric
// cells, a wrong field count, a row not yet wholly in the buffer): the
// general path then parses it and reports what is wrong.
size_t FastRow(const char* data, size_t n, bool eof, const std::vector<int>& column_of_field,
               float* out) {
  const char* p = data;
  const char* end = data + n;
  const size_t fields = column_of_field.size();
  for (size_t i = 0; i < fields; ++i) {
    double d;
    if (!FastNumber(p, end, &d)) return 0;
    if (int c = column_of_field[i]; c >= 0) out[c] = static_cast<float>(d);
    if (i + 1 < fields) {
      if (p == end || *p != ',') return 0;
      ++p;
      continue;
    }
    if (p == end) return eof ? n : 0;
    if (*p == '\r') ++p;
    if (p == end || *p != '\n') return 0;
    return static_cast<size_t>(p + 1 - data);
  }
  return 0;
}

// One cell to a float; false when it is not a number.
bool ParseCell(const char* s, size_t n, float* out) {
  while (n > 0 && (*s == ' ' || *s == '\t')) ++s, --n;
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) --n;
  if (n == 0) {
    *out = std::numeric_limits<float>::quiet_NaN();
    return true;
  }
  const char* p = s;
  size_t m = n;
  if (*p == '+' && m > 1 && p[1] != '-' && p[1] != '+') ++p, --m;
  double d = 0;
  if (FastDecimal(p, m, &d)) {
    *out = static_cast<float>(d);
    return true;
  }
  auto [end, ec] = std::from_chars(p, p + m, d);
  if (end == p + m) {
    if (ec == std::errc()) {
      *out = static_cast<float>(d);
      return true;
    }
    if (ec == std::errc::result_out_of_range && m < 128) {
      // Overflow or underflow: strtod gives ±HUGE_VAL or 0, as pandas does.
      char tmp[128];
      std::memcpy(tmp, p, m);
      tmp[m] = '\0';
      *out = static_cast<float>(std::strtod(tmp, nullptr));
      return true;
    }
  }
  std::string_view text(s, n);
  for (std::string_view na : kMissing) {
    if (text == na) {
      *out = std::numeric_limits<float>::quiet_NaN();
      return true;
    }
  }
  if (text == "true" || text == "True" || text == "TRUE") {
    *out = 1.0f;
    return true;
  }
  if (text == "false" || text == "False" || text == "FALSE") {
    *out = 0.0f;
    return true;
  }
  return false;
}

std::string Truncate(std::string s) {
  if (s.size() <= kMaxErrorText) return s;
  size_t cut = kMaxErrorText;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
  s.resize(cut);
  return s + "…";
}

}  // namespace

void CsvChunk::Clear() {
  values.clear();
  keys.clear();
  errors.clear();
  passthrough.clear();
}

CsvReader::~CsvReader() {
  if (fd_ >= 0) ::close(fd_);
}

std::string CsvReader::Name() const {
  return Quote(source_.name.empty() ? source_.path.string() : source_.name);
}

Error CsvReader::RecordTooLong() const {
  std::string where;
  if (header_.empty()) {
    where = "the header record";
  } else if (next_line_ > 0) {
    where = "the record at line " + std::to_string(next_line_);
  } else {
    where = "the record at byte " + std::to_string(buf_file_offset_ + begin_);
  }
  const uint64_t limit = source_.max_record_bytes;
  const std::string size = limit % (1u << 20) == 0 ? std::to_string(limit >> 20) + " MiB"
                                                   : std::to_string(limit) + " bytes";
  return InvalidArgument(Name() + ": " + where + " is longer than " + size +
                         ", the limit for one CSV record");
}

Result<std::unique_ptr<CsvReader>> CsvReader::Open(const CsvSource& source,
                                                   std::vector<std::string> columns) {
  std::unique_ptr<CsvReader> r(new CsvReader());
  r->source_ = source;
  r->columns_ = std::move(columns);
  const std::string name = r->Name();
  if (source.is_range() && !source.header) {
    return InvalidArgument(name + ": a byte range needs the file's header line");
  }
  r->fd_ = ::open(source.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r->fd_ < 0) return IoError("cannot read " + name + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(r->fd_, &st) != 0)
    return IoError("cannot read " + name + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return IoError("cannot read " + name + ": it is a directory");
  const auto size = static_cast<uint64_t>(st.st_size);
  if (source.is_range()) {
    r->read_pos_ = std::min(source.offset, size);
    r->read_end_ = std::min(source.offset + *source.length, size);
  } else {
    r->read_pos_ = 0;
    r->read_end_ = size;
  }
  r->buf_file_offset_ = r->read_pos_;
  r->buf_.resize(
      std::clamp<size_t>(r->read_end_ - r->read_pos_ + 1, kMinBuffer, kMaxInitialBuffer));
  r->eof_ = r->read_pos_ == r->read_end_;

  if (source.is_range()) {
    if (source.header->empty()) return InvalidArgument(name + ": the header line is empty");
    // The header comes without its line end, so a '\r' at its end is data
    // (the file's "y\r\r\n" is the column "y\r"): give it a line end back,
    // so that it parses exactly as the whole file's first record does.
    LOTE_TRY(r->ParseHeader(*source.header + "\r\n"));
    r->next_row_ = source.first_row.value_or(0);
    r->next_line_ = source.first_line.value_or(0);
    return r;
  }
  // The whole file: its first record that is not blank is the header (after
  // a byte order mark); blank lines before it are skipped, as pandas does.
  while (!r->eof_ && r->end_ < 3) LOTE_TRY(r->Fill());
  if (r->end_ >= 3 && std::memcmp(r->buf_.data(), "\xEF\xBB\xBF", 3) == 0) r->begin_ = 3;
  std::vector<FieldSpan> fields;
  int64_t blank_lines = 0;
  while (true) {
    if (r->begin_ == r->end_ && r->eof_)
      return InvalidArgument(name + ": the file is empty (no header line)");
    size_t consumed = 0, newlines = 0;
    Parse p = r->begin_ == r->end_ ? Parse::kNeedMore
                                   : ParseRecord(r->buf_.data() + r->begin_, r->end_ - r->begin_,
                                                 r->eof_, &fields, &consumed, &newlines);
    if (p == Parse::kNeedMore) {
      LOTE_TRY(r->Fill());
      continue;
    }
    if (consumed > r->source_.max_record_bytes) return r->RecordTooLong();
    if (IsBlank(r->buf_.data() + r->begin_, fields)) {
      r->begin_ += consumed;
      ++blank_lines;
      continue;
    }
    std::string text(r->buf_.data() + r->begin_, consumed);
    r->begin_ += consumed;
    r->next_line_ = 2 + blank_lines + static_cast<int64_t>(newlines);
    LOTE_TRY(r->ParseHeader(text));
    return r;
  }
}

Status CsvReader::ParseHeader(std::string_view text) {
  const std::string name = Name();
  std::vector<FieldSpan> fields;
  size_t consumed = 0, newlines = 0;
  if (text.empty()) return InvalidArgument(name + ": the header line is empty");
  if (text.size() > source_.max_record_bytes) return RecordTooLong();
  (void)ParseRecord(text.data(), text.size(), /*eof=*/true, &fields, &consumed, &newlines);
  header_.clear();
  for (const FieldSpan& f : fields) header_.push_back(FieldText(text.data(), f));
  if (columns_.empty()) columns_ = header_;
  field_of_column_.assign(columns_.size(), -1);
  for (size_t c = 0; c < columns_.size(); ++c) {
    auto it = std::find(header_.begin(), header_.end(), columns_[c]);
    if (it == header_.end()) {
      std::string have;
      for (size_t i = 0; i < header_.size() && i < kMaxListedColumns; ++i) {
        have += (i == 0 ? "" : ", ") + Truncate(header_[i]);
      }
      if (header_.size() > kMaxListedColumns) have += ", …";
      return InvalidArgument(name + ": column " + Quote(Truncate(columns_[c])) +
                             " is missing; the file's columns: " + have);
    }
    field_of_column_[c] = static_cast<int>(it - header_.begin());
  }
  passthrough_ = source_.passthrough_all ? header_ : source_.passthrough;
  passthrough_fields_.clear();
  for (const std::string& want : passthrough_) {
    auto it = std::find(header_.begin(), header_.end(), want);
    if (it == header_.end()) {
      std::string have;
      for (size_t i = 0; i < header_.size() && i < kMaxListedColumns; ++i) {
        have += (i == 0 ? "" : ", ") + Truncate(header_[i]);
      }
      if (header_.size() > kMaxListedColumns) have += ", …";
      return InvalidArgument(name + ": passthrough column " + Quote(Truncate(want)) +
                             " is missing; the file's columns: " + have);
    }
    passthrough_fields_.push_back(static_cast<int>(it - header_.begin()));
  }
  // The one-pass path reads numbers only; passthrough cells are text.
  if (!passthrough_.empty()) fast_rows_ = false;
  column_of_field_.assign(header_.size(), -1);
  for (size_t c = 0; c < columns_.size(); ++c) {
    int& slot = column_of_field_[static_cast<size_t>(field_of_column_[c])];
    if (slot >= 0) fast_rows_ = false;  // a column asked for twice: the general path
    slot = static_cast<int>(c);
  }
  return {};
}

Status CsvReader::Fill() {
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    buf_file_offset_ += begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) {
    // The unparsed bytes (one record, not yet whole) fill the buffer.
    const uint64_t most = source_.max_record_bytes + 1;
    if (buf_.size() >= most) return RecordTooLong();
    buf_.resize(static_cast<size_t>(std::min<uint64_t>(buf_.size() * 2, most)));
  }
  const size_t want =
      static_cast<size_t>(std::min<uint64_t>(buf_.size() - end_, read_end_ - read_pos_));
  if (want == 0) {
    eof_ = true;
    return {};
  }
  ssize_t got;
  do {
    got = ::pread(fd_, buf_.data() + end_, want, static_cast<off_t>(read_pos_));
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    return IoError("cannot read " + Name() + ": " + std::strerror(errno));
  }
  end_ += static_cast<size_t>(got);
  read_pos_ += static_cast<uint64_t>(got);
  if (got == 0 || read_pos_ >= read_end_) eof_ = true;  // got == 0: the file shrank
  return {};
}

Result<bool> CsvReader::Next(size_t max_rows, CsvChunk* chunk) {
  chunk->Clear();
  chunk->num_columns = columns_.size();
  std::vector<FieldSpan> fields;
  fields.reserve(header_.size() + 1);
  size_t rows = 0;
  while (rows < max_rows) {
    if (begin_ == end_) {
      if (eof_) break;
      LOTE_TRY(Fill());
      continue;
    }
    if (fast_rows_) {
      const size_t base = chunk->values.size();
      chunk->values.resize(base + columns_.size());
      size_t used = FastRow(buf_.data() + begin_, end_ - begin_, eof_, column_of_field_,
                            chunk->values.data() + base);
      if (used > source_.max_record_bytes) return RecordTooLong();
      if (used > 0) {
        chunk->keys.push_back(
            {.row = next_row_, .byte_offset = buf_file_offset_ + begin_, .line = next_line_});
        begin_ += used;
        if (next_line_ > 0) ++next_line_;
        ++next_row_;
        ++rows;
        continue;
      }
      chunk->values.resize(base);
    }
    size_t consumed = 0, newlines = 0;
    if (ParseRecord(buf_.data() + begin_, end_ - begin_, eof_, &fields, &consumed, &newlines) ==
        Parse::kNeedMore) {
      LOTE_TRY(Fill());
      continue;
    }
    if (consumed > source_.max_record_bytes) return RecordTooLong();
    const char* rec = buf_.data() + begin_;
    const RowKey key{
        .row = next_row_, .byte_offset = buf_file_offset_ + begin_, .line = next_line_};
    begin_ += consumed;
    if (next_line_ > 0) next_line_ += 1 + static_cast<int64_t>(newlines);
    if (IsBlank(rec, fields)) continue;
    ++next_row_;
    ++rows;

    if (fields.size() != header_.size()) {
      chunk->errors.push_back({.key = key,
                               .column = "",
                               .text = "",
                               .message = "the row has " + std::to_string(fields.size()) +
                                          " fields, the header has " +
                                          std::to_string(header_.size())});
      continue;
    }
    const size_t base = chunk->values.size();
    chunk->values.resize(base + columns_.size());
    bool good = true;
    for (size_t c = 0; c < columns_.size(); ++c) {
      const FieldSpan& f = fields[static_cast<size_t>(field_of_column_[c])];
      float v;
      if (f.escaped || !ParseCell(rec + f.begin, f.size, &v)) {
        std::string text = Truncate(FieldText(rec, f));
        chunk->errors.push_back(
            {.key = key,
             .column = columns_[c],
             .text = text,
             .message = "column " + Quote(columns_[c]) + ": " + Quote(text) + " is not a number"});
        good = false;
        break;
      }
      chunk->values[base + c] = v;
    }
    if (good) {
      chunk->keys.push_back(key);
      if (!passthrough_fields_.empty()) {
        std::string& text = chunk->passthrough.emplace_back();
        for (int field : passthrough_fields_) {
          text += ',';
          text += CsvField(FieldText(rec, fields[static_cast<size_t>(field)]));
        }
      }
    } else {
      chunk->values.resize(base);
    }
  }
  return rows > 0;
}

}  // namespace lote::native
