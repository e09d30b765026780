// The agent's result batch (jobs/result_batch.h) on any bytes: the body of
// POST /jobs/{job}/tasks/results, which an agent token may send. Input: the
// file's bytes.
//
// Invariants: nothing crashes or throws; an accepted batch describes the file
// exactly: the first result's rows start after the metadata line, each
// result's rows follow the previous ones, and together they end at the end of
// the file (so no result points outside it, whatever the byte counts).
#include "fuzz_util.h"
#include "jobs/result_batch.h"

using lote::fuzz::FuzzCheck;
using lote::fuzz::ScratchFile;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ScratchFile file;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  file.Set(bytes);
  auto batch = lote::jobs::ReadResultBatch(file.path());
  if (!batch) {
    FuzzCheck(batch.error().code() == lote::ErrorCode::kInvalidArgument,
              "an unreadable memfd? " + batch.error().message());
    return 0;
  }
  size_t nl = bytes.find('\n');
  FuzzCheck(nl != std::string_view::npos, "accepted a body without a metadata line");
  uint64_t at = nl + 1;
  for (const auto& r : batch->results) {
    FuzzCheck(r.offset == at, "results are not back to back");
    FuzzCheck(r.bytes <= size && r.offset <= size - r.bytes,
              "a result's rows lie outside the file: offset " + std::to_string(r.offset) + ", " +
                  std::to_string(r.bytes) + " bytes, file of " + std::to_string(size));
    FuzzCheck(!r.lease.empty() && r.task >= 0 && r.succeeded >= 0 && r.failed >= 0,
              "accepted a result with a bad field");
    at = r.offset + r.bytes;
  }
  FuzzCheck(at == size, "the results do not end at the end of the file");
  return 0;
}
