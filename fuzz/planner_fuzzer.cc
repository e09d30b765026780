// The byte-range planner (jobs/byte_ranges.h PlanByteRanges and the
// RangeSplitter under it) over any file: how a large CSV, TSV or JSONL input
// is cut into mini-batches. Input: two bytes of target size (1..2048), a
// flags byte (bits 0-1: the format, CSV, TSV, lines, CSV; bit 2: a small
// header limit, 0..63 bytes, from the next byte; bit 3: PlanByteRanges on
// the file too), a byte that seeds how the file is fed to the splitter in
// pieces, then the file.
//
// Checked against a reference scan written here, byte by byte from the
// header's contract (RFC 4180 as byte_ranges.h states it), for a
// RangeSplitter fed the bytes in pieces of varying size and (flags bit 3)
// PlanByteRanges on the file:
//   - a UTF-8 BOM at the start belongs to nothing; the header is the first
//     record that is not blank (only spaces and tabs before its line end),
//     without its line end and without the BOM;
//     the body starts right after the header record;
//   - the ranges are contiguous, not empty, and tile the body exactly;
//   - every range but the last ends at a record end: a '\n' outside quotes
//     (so never inside a quoted field), and the first record end at least
//     `target` bytes after its start; no range is cut after a bare '\r'
//     outside quotes; the last range misses no cut it should have made;
//   - a header longer than the limit gives no ranges and no header.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "jobs/byte_ranges.h"

using lote::fuzz::FuzzCheck;
using lote::fuzz::InputReader;
using lote::fuzz::ScratchFile;
namespace jobs = lote::jobs;

namespace {

constexpr uint64_t kNone = UINT64_MAX;

// What the contract says about a file, computed the slow, obvious way.
struct Reference {
  uint64_t start = 0;                 // after the BOM
  std::vector<uint64_t> record_ends;  // offsets just past each record's '\n'
  uint64_t first_bare_cr = kNone;     // a '\r' outside quotes not followed by '\n'
  std::string header;                 // CSV/TSV only
  uint64_t body_offset = 0;
};

Reference Scan(std::string_view b, jobs::TextFormat format) {
  Reference r;
  const size_t n = b.size();
  if (b.starts_with("\xEF\xBB\xBF")) r.start = 3;
  if (format == jobs::TextFormat::kLines) {
    for (size_t i = r.start; i < n; ++i) {
      if (b[i] == '\n') r.record_ends.push_back(i + 1);
    }
    r.body_offset = r.start;
    return r;
  }
  const char delim = format == jobs::TextFormat::kTsv ? '\t' : ',';
  bool in_quotes = false, field_start = true;
  for (size_t i = r.start; i < n; ++i) {
    const char c = b[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < n && b[i + 1] == '"') {
          ++i;  // "" is a quote character
        } else {
          in_quotes = false;
          field_start = false;
        }
      }
      continue;
    }
    if (c == '"' && field_start) {
      in_quotes = true;
      field_start = false;
    } else if (c == delim) {
      field_start = true;
    } else if (c == '\n') {
      r.record_ends.push_back(i + 1);
      field_start = true;
    } else {
      if (c == '\r' && i + 1 < n && b[i + 1] != '\n' && r.first_bare_cr == kNone) r.first_bare_cr = i;
      field_start = false;
    }
  }
  // The header: the first record that is not blank (nothing but spaces and
  // tabs before its "\n" or "\r\n"), without "\n" and then one '\r'.
  uint64_t from = r.start;
  size_t k = 0;
  for (; k < r.record_ends.size(); ++k) {
    std::string_view record = b.substr(from, r.record_ends[k] - from);
    record.remove_suffix(1);  // the '\n'
    if (record.ends_with('\r')) record.remove_suffix(1);
    if (record.find_first_not_of(" \t") != std::string_view::npos) break;
    from = r.record_ends[k];
  }
  r.body_offset = k < r.record_ends.size() ? r.record_ends[k] : n;
  std::string_view h = b.substr(from, r.body_offset - from);
  if (h.ends_with('\n')) h.remove_suffix(1);
  if (h.ends_with('\r')) h.remove_suffix(1);
  r.header = std::string(h);
  return r;
}

std::string At(uint64_t v) { return std::to_string(v); }

void Check(const jobs::RangePlan& plan, const Reference& ref, std::string_view body, jobs::TextFormat format,
           uint64_t target, size_t max_header, const std::string& who) {
  const bool tabular = format != jobs::TextFormat::kLines;
  const std::string w = who + ": ";
  if (tabular && ref.header.size() > max_header) {
    FuzzCheck(plan.header_too_long, w + "a header of " + At(ref.header.size()) + " bytes over the limit of " +
                                        At(max_header) + " is not refused");
    FuzzCheck(plan.header.empty() && plan.ranges.empty(), w + "a header too long still gives ranges");
    return;
  }
  FuzzCheck(!plan.header_too_long, w + "a header within the limit is called too long");
  FuzzCheck(plan.size == body.size(), w + "scanned " + At(plan.size) + " bytes of " + At(body.size()));
  FuzzCheck(!plan.header.starts_with("\xEF\xBB\xBF") || ref.header.starts_with("\xEF\xBB\xBF"),
            w + "the header holds the byte order mark");
  FuzzCheck(plan.header == (tabular ? ref.header : std::string()),
            w + "the header is not the first record without its line end");
  FuzzCheck(plan.body_offset == ref.body_offset,
            w + "the body starts at " + At(plan.body_offset) + ", not " + At(ref.body_offset));
  if (plan.body_offset == body.size()) {
    FuzzCheck(plan.ranges.empty(), w + "ranges of an empty body");
    return;
  }
  FuzzCheck(!plan.ranges.empty(), w + "no ranges for a body of " + At(body.size() - plan.body_offset) + " bytes");
  auto is_record_end = [&](uint64_t e) {
    return std::binary_search(ref.record_ends.begin(), ref.record_ends.end(), e);
  };
  // The first record end at or after `from` (kNone: none before the end).
  auto next_record_end = [&](uint64_t from) {
    auto it = std::lower_bound(ref.record_ends.begin(), ref.record_ends.end(), from);
    return it == ref.record_ends.end() ? kNone : *it;
  };
  uint64_t at = plan.body_offset;
  for (size_t k = 0; k < plan.ranges.size(); ++k) {
    const uint64_t offset = plan.ranges[k].offset, length = plan.ranges[k].length;
    FuzzCheck(offset == at, w + "ranges are not contiguous: expected offset " + At(at) + ", got " + At(offset));
    FuzzCheck(length > 0, w + "an empty range at " + At(offset));
    FuzzCheck(length <= body.size() - offset, w + "a range runs past the end of the file");
    const uint64_t end = offset + length;
    // Where the contract says this range ends: the first record end at
    // least `target` bytes in, unless a bare '\r' came before it.
    uint64_t cut = next_record_end(offset + target);
    if (cut != kNone && ref.first_bare_cr != kNone && ref.first_bare_cr < cut) cut = kNone;
    if (cut == body.size()) cut = kNone;  // the end of the file ends the last range anyway
    if (k + 1 < plan.ranges.size()) {
      FuzzCheck(is_record_end(end), w + "a range ends at " + At(end) +
                                        ", which is not a record end (inside a line or a quoted field)");
      FuzzCheck(ref.first_bare_cr == kNone || ref.first_bare_cr >= end,
                w + "a range is cut at " + At(end) + ", after a bare '\\r' at " + At(ref.first_bare_cr));
      FuzzCheck(cut == end, w + "a range ends at " + At(end) + ", not at the first record end " +
                                (cut == kNone ? std::string("(none)") : At(cut)) + " past its target");
    } else {
      FuzzCheck(end == body.size(), w + "the ranges end at " + At(end) + ", the file at " + At(body.size()));
      FuzzCheck(cut == kNone, w + "the last range, from " + At(offset) + ", should have been cut at " + At(cut));
    }
    at = end;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ScratchFile file;
  InputReader in(data, size);
  const uint64_t target = 1 + in.U16() % 2048;
  const uint8_t flags = in.Byte();
  static constexpr jobs::TextFormat kFormats[] = {jobs::TextFormat::kCsv, jobs::TextFormat::kTsv,
                                                  jobs::TextFormat::kLines, jobs::TextFormat::kCsv};
  const jobs::TextFormat format = kFormats[flags & 3];
  const size_t small_header = (flags & 4) != 0 ? in.Byte() % 64 : jobs::kMaxCarriedHeaderBytes;
  uint32_t pieces = in.Byte() | 1u;
  const std::string_view body = in.Rest();
  file.Set(body);

  const Reference ref = Scan(body, format);

  // PlanByteRanges reads through a 1 MiB buffer, which costs more than the
  // scan of a small input (page faults): half the inputs take it.
  if ((flags & 8) != 0) {
    auto plan = jobs::PlanByteRanges(file.path(), format, target);
    FuzzCheck(plan.has_value(), "PlanByteRanges failed on a memfd: " + (plan ? std::string() : plan.error().message()));
    Check(*plan, ref, body, format, target, jobs::kMaxCarriedHeaderBytes, "PlanByteRanges");
  }

  // The same bytes in pieces of 1..16 bytes (a cheap generator seeded by the
  // input), stopping when the splitter gives up as PlanByteRanges does.
  jobs::RangeSplitter splitter(format, target, small_header);
  for (size_t pos = 0; pos < body.size() && !splitter.gave_up();) {
    pieces = pieces * 1103515245u + 12345u;
    const size_t n = std::min<size_t>(body.size() - pos, 1 + (pieces >> 16) % 16);
    splitter.Feed(body.substr(pos, n));
    pos += n;
  }
  Check(splitter.Finish(), ref, body, format, target, small_header, "RangeSplitter fed in pieces");
  return 0;
}
