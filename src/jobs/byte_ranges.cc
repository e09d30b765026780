#include "jobs/byte_ranges.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "common/fs_name.h"
#include "common/util.h"

namespace lote::jobs {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr size_t kReadBlock = size_t{1} << 20;

}  // namespace

TextFormat TextFormatOf(std::string_view file_name) {
  const size_t slash = file_name.rfind('/');
  std::string_view base = slash == std::string_view::npos ? file_name : file_name.substr(slash + 1);
  const size_t dot = base.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return TextFormat::kOther;
  const std::string ext = ToLower(base.substr(dot));
  if (ext == ".csv") return TextFormat::kCsv;
  if (ext == ".tsv") return TextFormat::kTsv;
  if (ext == ".jsonl" || ext == ".ndjson" || ext == ".txt") return TextFormat::kLines;
  return TextFormat::kOther;
}

RangeSplitter::RangeSplitter(TextFormat format, uint64_t target, size_t max_header_bytes)
    : format_(format),
      target_(target == 0 ? 1 : target),
      max_header_(max_header_bytes),
      delim_(format == TextFormat::kTsv ? '\t' : ','),
      in_header_(format == TextFormat::kCsv || format == TextFormat::kTsv) {}

void RangeSplitter::Feed(std::string_view bytes) {
  if (!started_) {
    const size_t take = std::min(bytes.size(), kBom.size() - prefix_.size());
    prefix_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (prefix_.size() < kBom.size()) return;
    Start();
  }
  Consume(bytes);
}

void RangeSplitter::Start() {
  started_ = true;
  std::string first = std::move(prefix_);
  std::string_view rest = first;
  if (rest.starts_with(kBom)) {
    rest.remove_prefix(kBom.size());
    pos_ = kBom.size();
  }
  plan_.body_offset = range_start_ = pos_;
  Consume(rest);
}

size_t RangeSplitter::NextRecordEnd(std::string_view bytes, size_t i) {
  const size_t n = bytes.size();
  if (format_ == TextFormat::kLines) {
    const void* nl = std::memchr(bytes.data() + i, '\n', n - i);
    return nl == nullptr ? std::string_view::npos
                         : static_cast<size_t>(static_cast<const char*>(nl) - bytes.data()) + 1;
  }
  const char* data = bytes.data();
  if (cr_pending_ && i < n) {  // the previous bytes ended in '\r' outside quotes
    cr_pending_ = false;
    if (data[i] != '\n') bare_cr_ = true;
  }
  bool stop_known = false;
  size_t stop = n;  // the next line end outside quotes, once known; n: none in bytes
  while (i < n) {
    if (in_quotes_) {
      if (quote_pending_) {
        quote_pending_ = false;
        if (data[i] == '"') {  // "" inside quotes: a quote character
          ++i;
          continue;
        }
        in_quotes_ = false;  // the field's closing quote: data[i] is outside
        field_start_ = false;
      } else {
        const void* q = std::memchr(data + i, '"', n - i);
        if (q == nullptr) return std::string_view::npos;
        i = static_cast<size_t>(static_cast<const char*>(q) - data) + 1;
        quote_pending_ = true;
        continue;
      }
    }
    // Outside quotes only a line end and a quote that starts a field count:
    // find the line end, then any quote before it (memchr is vectorized).
    // The line end found is kept while i has not passed it, so a long line
    // full of quotes is still scanned once, not once per quote.
    if (!stop_known || stop < i) {
      const void* hit = std::memchr(data + i, '\n', n - i);
      stop = hit == nullptr ? n : static_cast<size_t>(static_cast<const char*>(hit) - data);
      stop_known = true;
    }
    const bool nl_found = stop < n;
    const void* q_hit = std::memchr(data + i, '"', stop - i);
    const size_t q = q_hit == nullptr ? stop : static_cast<size_t>(static_cast<const char*>(q_hit) - data);
    if (!bare_cr_) NoteCarriageReturns(bytes, i, q, nl_found ? stop : std::string_view::npos);
    if (q_hit == nullptr) {
      if (nl_found) {
        field_start_ = true;
        return stop + 1;
      }
      if (stop > i) field_start_ = data[stop - 1] == delim_;
      return std::string_view::npos;
    }
    const bool starts_field = q == i ? field_start_ : data[q - 1] == delim_;
    i = q + 1;
    in_quotes_ = starts_field;  // else a plain character inside a field
    field_start_ = false;
  }
  return std::string_view::npos;
}

void RangeSplitter::NoteCarriageReturns(std::string_view bytes, size_t from, size_t to,
                                        size_t line_end) {
  while (from < to) {
    const void* hit = std::memchr(bytes.data() + from, '\r', to - from);
    if (hit == nullptr) return;
    const size_t r = static_cast<size_t>(static_cast<const char*>(hit) - bytes.data());
    if (r + 1 == bytes.size()) {
      cr_pending_ = true;  // the next byte fed decides
    } else if (r + 1 != line_end) {
      bare_cr_ = true;  // not the '\r' of a "\r\n"
      return;
    }
    from = r + 1;
  }
}

void RangeSplitter::NoteContent(std::string_view bytes) {
  if (record_has_content_ || bytes.empty()) return;
  // A '\r' is blank as the first byte of a "\r\n" line end; in a CSV/TSV
  // record any other '\r' is a character of its field for the native reader
  // (and ends a line for pandas: from there on the readers disagree, see
  // byte_ranges.h), so such a record is not blank. JSON Lines readers treat
  // every '\r' as white space.
  const bool cr_is_blank = format_ == TextFormat::kLines;
  if (blank_cr_pending_) {  // the previous piece ended in that '\r'
    blank_cr_pending_ = false;
    if (bytes[0] != '\n') {
      record_has_content_ = true;
      return;
    }
  }
  // Usually decided by the record's first byte.
  for (size_t k = 0; k < bytes.size(); ++k) {
    const char c = bytes[k];
    if (c == ' ' || c == '\t' || c == '\n') continue;
    if (c == '\r') {
      if (cr_is_blank) continue;
      if (k + 1 == bytes.size()) {
        blank_cr_pending_ = true;
        continue;
      }
      if (bytes[k + 1] == '\n') continue;
    }
    record_has_content_ = true;
    return;
  }
}

void RangeSplitter::Consume(std::string_view bytes) {
  // '\n' bytes are counted up to each record end (quoted ones too: they
  // start lines for the readers as well).
  auto count_newlines = [&](size_t from, size_t to) {
    newlines_ += static_cast<uint64_t>(std::count(bytes.data() + from, bytes.data() + to, '\n'));
  };
  size_t counted = 0;
  size_t i = 0;
  while (i < bytes.size()) {
    const size_t end = NextRecordEnd(bytes, i);
    const size_t stop = end == std::string_view::npos ? bytes.size() : end;
    NoteContent(bytes.substr(i, stop - i));
    if (in_header_ && !plan_.header_too_long) {
      plan_.header.append(bytes.substr(i, stop - i));
      if (plan_.header.size() > max_header_ + 2) {  // + 2: the line end is not the header's
        plan_.header_too_long = true;
        plan_.header.clear();
      }
    }
    i = stop;
    if (end != std::string_view::npos) {
      count_newlines(counted, end);
      counted = end;
      RecordEnd(pos_ + end);
    }
  }
  count_newlines(counted, bytes.size());
  pos_ += bytes.size();
}

void RangeSplitter::RecordEnd(uint64_t end) {
  const bool blank = !record_has_content_;
  record_has_content_ = false;
  blank_cr_pending_ = false;
  if (in_header_) {
    if (blank) {
      // A blank line before the header: the readers skip it (pandas, the
      // native reader), so the header is the next record.
      plan_.header.clear();
      plan_.body_offset = range_start_ = end;
      range_first_line_ = newlines_ + 1;
      return;
    }
    in_header_ = false;
    plan_.body_offset = range_start_ = end;
    range_first_line_ = newlines_ + 1;
    return;
  }
  if (!blank) ++rows_;
  if (end - range_start_ >= target_ && !bare_cr_) {
    plan_.ranges.push_back({range_start_, end - range_start_, range_first_row_, range_first_line_});
    range_start_ = end;
    range_first_row_ = rows_;
    range_first_line_ = newlines_ + 1;
  }
}

RangePlan RangeSplitter::Finish() {
  if (!started_) Start();
  plan_.size = pos_;
  if (in_header_) {
    // The header never ended: there is no body.
    plan_.body_offset = range_start_ = pos_;
  } else if (range_start_ < pos_) {
    plan_.ranges.push_back({range_start_, pos_ - range_start_, range_first_row_, range_first_line_});
  }
  if (format_ == TextFormat::kCsv || format_ == TextFormat::kTsv) {
    std::string& h = plan_.header;
    if (h.ends_with('\n')) h.pop_back();
    if (h.ends_with('\r')) h.pop_back();
    if (plan_.header_too_long || h.size() > max_header_) {
      plan_.header_too_long = true;
      h.clear();
      plan_.ranges.clear();
    }
  }
  return std::move(plan_);
}

Result<RangePlan> PlanByteRanges(const std::filesystem::path& path, TextFormat format,
                                 uint64_t target) {
  auto fail = [&](const char* what) {
    return IoError(std::string(what) + " " + Quote(EscapeName(path.string())) + ": " +
                   std::strerror(errno));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("cannot open");
  RangeSplitter splitter(format, target);
  std::string buf(kReadBlock, '\0');
  while (true) {
    ssize_t got = ::read(fd, buf.data(), buf.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      Error e = fail("cannot read");
      ::close(fd);
      return e;
    }
    if (got == 0 || splitter.gave_up()) break;
    splitter.Feed(std::string_view(buf.data(), static_cast<size_t>(got)));
  }
  ::close(fd);
  return splitter.Finish();
}

}  // namespace lote::jobs
