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
  last_line_ = line;
  last_padded_ = padded;
  return true;
}

bool JsonlLineParser::Passthrough(const std::vector<std::string>& keys, std::string* out,
                                  std::string* column, std::string* message) {
  // Parsed again: the document of Parse is gone once the numbers are taken
  // (and passthrough is the rare case).
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  const bool in_place = last_padded_ >= last_line_.size() + simdjson::SIMDJSON_PADDING;
  if (parser_->parse(last_line_.data(), last_line_.size(), !in_place).get(doc) ||
      doc.get_object().get(obj)) {
    column->clear();
    *message = "not a JSON object";
    return false;
  }
  for (const std::string& key : keys) {
    simdjson::dom::element v;
    bool found = false;
    for (simdjson::dom::key_value_pair kv : obj) {
      if (kv.key == key) {
        v = kv.value;
        found = true;
        break;
      }
    }
    if (!found) {
      *column = key;
      *message = "passthrough key " + ShortKey(key) + " is missing";
      return false;
    }
    *out += ',';
    switch (v.type()) {
      case simdjson::dom::element_type::STRING:
        *out += CsvField(v.get_string().value_unsafe());
        break;
      case simdjson::dom::element_type::NULL_VALUE:
        break;
      default:
        *out += CsvField(simdjson::minify(v));
        break;
    }
  }
  return true;
}

Result<std::vector<std::string>> JsonlLineParser::KeysOf(std::string_view line) {
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  if (parser_->parse(line.data(), line.size(), true).get(doc) || doc.get_object().get(obj)) {
    return InvalidArgument("it is not a JSON object");
  }
  std::vector<std::string> keys;
  for (simdjson::dom::key_value_pair kv : obj) {
    std::string k(kv.key);
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(std::move(k));
  }
  return keys;
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
  if (source.passthrough_all) {
    LOTE_ASSIGN_OR_RETURN(r->passthrough_, r->FirstObjectKeys());
  } else {
    r->passthrough_ = source.passthrough;
  }
  return r;
}

Result<std::vector<std::string>> JsonlReader::FirstObjectKeys() {
  // Read from the file's start, whatever the range: every range of the file
  // must copy the same columns.
  auto keys_from = [&](const std::string& l) -> Result<std::vector<std::string>> {
    auto keys = line_.KeysOf(l);
    if (!keys) {
      return InvalidArgument(Name() + ": passthrough_columns \"*\" takes the keys of the file's "
                             "first object, and its first line is not a JSON object");
    }
    return keys;
  };
  std::string line;
  uint64_t pos = 0;
  char buf[64 * 1024];
  while (true) {
    ssize_t got;
    do {
      got = ::pread(fd_, buf, sizeof buf, static_cast<off_t>(pos));
    } while (got < 0 && errno == EINTR);
    if (got < 0) return IoError("cannot read " + Name() + ": " + std::strerror(errno));
    std::string_view chunk(buf, static_cast<size_t>(got));
    if (pos == 0 && chunk.starts_with("\xEF\xBB\xBF")) chunk.remove_prefix(3);
    pos += static_cast<uint64_t>(got);
    while (!chunk.empty()) {
      const size_t nl = chunk.find('\n');
      line.append(chunk.substr(0, nl));
      if (line.size() > source_.max_record_bytes) {
        return InvalidArgument(Name() + ": passthrough_columns \"*\": the file's first line is "
                               "longer than the limit for one line");
      }
      if (nl == std::string_view::npos) break;
      chunk.remove_prefix(nl + 1);
      if (!Blank(line)) return keys_from(line);
      line.clear();
    }
    if (got == 0) break;
  }
  if (!Blank(line)) return keys_from(line);
  return InvalidArgument(Name() + ": passthrough_columns \"*\": the file has no line to take "
                         "the keys from");
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
    if (line_.Parse(line, padded, chunk->values.data() + at, &column, &message) &&
        (passthrough_.empty() ||
         line_.Passthrough(passthrough_, &chunk->passthrough.emplace_back(), &column, &message))) {
      chunk->keys.push_back(key);
    } else {
      if (chunk->passthrough.size() > chunk->keys.size()) chunk->passthrough.pop_back();
      chunk->values.resize(at);
      chunk->errors.push_back(RowError{.key = key, .column = column, .text = {}, .message = message});
    }
  }
  return rows > 0;
}

}  // namespace lote::native
