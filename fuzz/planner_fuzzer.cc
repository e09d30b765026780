// The planner's byte ranges (jobs/planner.h LineAlignedRanges) over any file:
// how a large text input is cut into mini-batches. Input: two bytes of
// target size (1..65536), a flags byte (bit 0: the first line is a header to
// skip, as for a CSV), then the file.
//
// Invariants: the ranges are contiguous, cover the body (after the header)
// exactly, are not empty, and each ends at a line end ('\n') or at the end of
// the file. (Once the planner understands CSV quoting, a range must also not
// end inside a quoted field; that check belongs here then.)
#include "fuzz_util.h"
#include "jobs/planner.h"

using lote::fuzz::FuzzCheck;
using lote::fuzz::InputReader;
using lote::fuzz::ScratchFile;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ScratchFile file;
  InputReader in(data, size);
  const uint64_t target = uint64_t{in.U16()} + 1;
  const bool header = (in.Byte() & 1) != 0;
  const std::string_view body = in.Rest();
  file.Set(body);

  uint64_t first = 0;
  if (header) {
    size_t nl = body.find('\n');
    first = nl == std::string_view::npos ? body.size() : nl + 1;
  }
  auto ranges = lote::jobs::LineAlignedRanges(file.path(), first, target);
  FuzzCheck(ranges.has_value(), "LineAlignedRanges failed on a memfd: " +
                                    (ranges ? std::string() : ranges.error().message()));
  uint64_t at = first;
  for (auto [offset, length] : *ranges) {
    FuzzCheck(offset == at, "ranges are not contiguous: expected offset " + std::to_string(at) +
                                ", got " + std::to_string(offset));
    FuzzCheck(length > 0, "an empty range at " + std::to_string(offset));
    FuzzCheck(length <= body.size() - offset, "a range runs past the end of the file");
    at = offset + length;
    FuzzCheck(at == body.size() || body[at - 1] == '\n',
              "a range ends inside a line, at " + std::to_string(at));
  }
  FuzzCheck(at == body.size(), "the ranges end at " + std::to_string(at) + ", the file at " +
                                   std::to_string(body.size()));
  return 0;
}
