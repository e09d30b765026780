#include "native/jsonl_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include <simdjson.h>

#include "common/util.h"

namespace lote::native {

namespace {

constexpr size_t kMinBuffer = 64 * 1024;
constexpr size_t kMaxInitialBuffer = 4 << 20;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// At most 64 bytes of a key, for messages.
std::string ShortKey(std::string_view key) {
  if (key.size() <= 64) return Quote(std::string(key));
  return Quote(std::string(key.substr(0, 64)) + "…");
}

bool Blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

}  // namespace

JsonlLineParser::JsonlLineParser(std::vector<std::string> columns)
    : columns_(std::move(columns)),
      parser_(std::make_unique<simdjson::dom::parser>()),
      seen_(columns_.size()) {}

JsonlLineParser::~JsonlLineParser() = default;

bool JsonlLineParser::Parse(std::string_view line, size_t padded, float* out, std::string* column,
                            std::string* message) {
  simdjson::dom::element doc;
  // In place when simdjson may read its padding past the line; else a copy.
  const bool in_place = padded >= line.size() + simdjson::SIMDJSON_PADDING;
  auto error = parser_->parse(line.data(), line.size(), !in_place).get(doc);
  if (error) {
    column->clear();
    *message = std::string("not valid JSON (") + simdjson::error_message(error) + ")";
    return false;
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) {
    column->clear();
    *message = "not a JSON object";
    return false;
  }
  std::fill(seen_.begin(), seen_.end(), 0);
  size_t found = 0;
  for (simdjson::dom::key_value_pair kv : obj) {
    // A handful of columns: a linear search beats hashing each key.
    size_t k = 0;
    while (k < columns_.size() && (seen_[k] || columns_[k] != kv.key)) ++k;
    if (k == columns_.size()) continue;
    seen_[k] = 1;
    ++found;
    const simdjson::dom::element& v = kv.value;
    switch (v.type()) {
      case simdjson::dom::element_type::DOUBLE:
        out[k] = static_cast<float>(v.get_double().value_unsafe());
        break;
      case simdjson::dom::element_type::INT64:
        out[k] = static_cast<float>(static_cast<double>(v.get_int64().value_unsafe()));
        break;
      case simdjson::dom::element_type::UINT64:
        out[k] = static_cast<float>(static_cast<double>(v.get_uint64().value_unsafe()));
        break;
      case simdjson::dom::element_type::BOOL:
        out[k] = v.get_bool().value_unsafe() ? 1.0f : 0.0f;
        break;
      case simdjson::dom::element_type::NULL_VALUE:
        out[k] = kNaN;
        break;
      case simdjson::dom::element_type::STRING:
      case simdjson::dom::element_type::ARRAY:
      case simdjson::dom::element_type::OBJECT: {
        const char* what = v.type() == simdjson::dom::element_type::STRING  ? "a string"
                           : v.type() == simdjson::dom::element_type::ARRAY ? "an array"
                                                                            : "an object";
        *column = columns_[k];
        *message = "key " + ShortKey(columns_[k]) + ": " + what + ", not a number";
        return false;
      }
    }
    if (found == columns_.size()) break;
  }
  if (found < columns_.size()) {
    for (size_t k = 0; k < columns_.size(); ++k) {
      if (seen_[k]) continue;
      *column = columns_[k];
      *message = "key " + ShortKey(columns_[k]) + " is missing";
      return false;
    }
  }
  return true;
}

Result<std::unique_ptr<JsonlReader>> JsonlReader::Open(const CsvSource& source,
                                                       std::vector<std::string> columns) {
  std::unique_ptr<JsonlReader> r(new JsonlReader(std::move(columns)));
  r->source_ = source;
  const std::string name = r->Name();
  if (r->columns().empty()) {
    return InvalidArgument(name +
                           ": a JSON Lines file does not name its columns; name the model's "
                           "inputs in the MLmodel signature or in the runtime's options.columns");
  }
  r->fd_ = ::open(source.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r->fd_ < 0) return IoError("cannot read " + name + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(r->fd_, &st) != 0) return IoError("cannot read " + name + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return IoError("cannot read " + name + ": it is a directory");
  const auto size = static_cast<uint64_t>(st.st_size);
  if (source.is_range()) {
    r->read_pos_ = std::min(source.offset, size);
    r->read_end_ = std::min(source.offset + *source.length, size);
    r->next_line_ = source.first_line.value_or(0);
    r->next_row_ = source.first_row.value_or(0);
  } else {
    r->read_pos_ = 0;
    r->read_end_ = size;
    r->next_line_ = 1;
  }
  // A byte order mark can only be at the file's start.
  r->bom_checked_ = r->read_pos_ != 0;
  r->buf_file_offset_ = r->read_pos_;
  r->capacity_ =
      std::clamp<size_t>(r->read_end_ - r->read_pos_ + 1, kMinBuffer, kMaxInitialBuffer);
  r->buf_.resize(r->capacity_ + simdjson::SIMDJSON_PADDING);
  r->eof_ = r->read_pos_ == r->read_end_;
  return r;
}

JsonlReader::~JsonlReader() {
  if (fd_ >= 0) ::close(fd_);
}

std::string JsonlReader::Name() const {
  return Quote(source_.name.empty() ? source_.path.string() : source_.name);
}

Error JsonlReader::LineTooLong() const {
  const uint64_t limit = source_.max_record_bytes;
  const std::string size = limit % (1u << 20) == 0 ? std::to_string(limit >> 20) + " MiB"
                                                   : std::to_string(limit) + " bytes";
  const std::string where = next_line_ > 0
                                ? "line " + std::to_string(next_line_)
                                : "the line at byte " + std::to_string(buf_file_offset_ + begin_);
  return InvalidArgument(Name() + ": " + where + " is longer than " + size +
                         ", the limit for one JSON Lines record");
}

Status JsonlReader::Fill() {
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    buf_file_offset_ += begin_;
    begin_ = 0;
  }
  if (end_ == capacity_) {
    // The unparsed bytes (one line, not yet whole) fill the buffer.
    const uint64_t most = source_.max_record_bytes + 1;
    if (capacity_ >= most) return LineTooLong();
    capacity_ = static_cast<size_t>(std::min<uint64_t>(capacity_ * 2, most));
    buf_.resize(capacity_ + simdjson::SIMDJSON_PADDING);
  }
  const size_t want =
      static_cast<size_t>(std::min<uint64_t>(capacity_ - end_, read_end_ - read_pos_));
  if (want == 0) {
    eof_ = true;
    return {};
  }
  ssize_t got;
  do {
    got = ::pread(fd_, buf_.data() + end_, want, static_cast<off_t>(read_pos_));
  } while (got < 0 && errno == EINTR);
  if (got < 0) return IoError("cannot read " + Name() + ": " + std::strerror(errno));
  end_ += static_cast<size_t>(got);
  read_pos_ += static_cast<uint64_t>(got);
  if (got == 0 || read_pos_ >= read_end_) eof_ = true;  // got == 0: the file shrank
  return {};
}

Result<bool> JsonlReader::Next(size_t max_rows, CsvChunk* chunk) {
  chunk->Clear();
  const size_t cols = columns().size();
  chunk->num_columns = cols;
  if (!bom_checked_) {
    while (!eof_ && end_ < 3) LOTE_TRY(Fill());
    if (end_ >= 3 && std::memcmp(buf_.data(), "\xEF\xBB\xBF", 3) == 0) begin_ = 3;
    bom_checked_ = true;
  }
  size_t rows = 0;
  std::string column, message;
  while (rows < max_rows) {
    const char* start = buf_.data() + begin_;
    const void* nl = std::memchr(start, '\n', end_ - begin_);
    size_t len;
    size_t consumed;
    if (nl != nullptr) {
      len = static_cast<size_t>(static_cast<const char*>(nl) - start);
      consumed = len + 1;
    } else if (!eof_) {
      LOTE_TRY(Fill());
      continue;
    } else if (begin_ == end_) {
      break;
    } else {
      len = consumed = end_ - begin_;  // the last line, without its "\n"
    }
    // The limit holds whatever the buffer's size (it may hold the whole file).
    if (consumed > source_.max_record_bytes) return LineTooLong();
    const std::string_view line(start, len);
    const RowKey key{.row = next_row_,
                     .byte_offset = buf_file_offset_ + begin_,
                     .line = next_line_};
    begin_ += consumed;
    if (next_line_ > 0) ++next_line_;
    if (Blank(line)) continue;
    ++next_row_;
    ++rows;
    const size_t at = chunk->values.size();
    chunk->values.resize(at + cols);
    const size_t padded = buf_.size() - static_cast<size_t>(start - buf_.data());
    if (line_.Parse(line, padded, chunk->values.data() + at, &column, &message)) {
      chunk->keys.push_back(key);
    } else {
      chunk->values.resize(at);
      chunk->errors.push_back(RowError{.key = key, .column = column, .text = {}, .message = message});
    }
  }
  return rows > 0;
}

}  // namespace lote::native
