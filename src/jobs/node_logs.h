// The logs a remote agent uploads into its job's logs folder (docs/agent-api.md,
// "Node logs"): the workers' stdout and stderr, the failed attempts and the
// agent's own log, in the layout a local agent writes them, so `lote job
// stream`, `lote job download` and the reports read the same files either way.
//
// An upload writes bytes at an offset of one file: bytes the file already
// has are skipped (a repeated upload changes nothing), bytes past its end are
// appended, and an offset past its end is refused (a gap). Paths are checked
// (CheckNodeLogPath) and opened beneath the logs folder (storage::Beneath),
// so no upload reaches outside it or replaces what the server writes
// (lote_job.txt, job_result.txt, the reports). Callers serialize the writes
// to one job's logs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "common/status.h"

namespace lote::jobs {

// The most one file may grow to through uploads, and one upload's bytes.
inline constexpr uint64_t kMaxNodeLogBytes = uint64_t{1} << 30;
inline constexpr size_t kMaxNodeLogUploadBytes = size_t{1} << 20;

// A relative path under user/stdout/, user/error/ or sys/node/, normal
// (no '.', '..' or empty part). InvalidArgument naming the rule otherwise.
Status CheckNodeLogPath(std::string_view rel);

// The size of the file at rel beneath logs_dir; 0 when it does not exist.
Result<uint64_t> NodeLogSize(const std::filesystem::path& logs_dir, std::string_view rel);

// Writes data at offset of rel beneath logs_dir (created, with its folders);
// returns the file's size after. FailedPrecondition when offset is past the
// end (naming the size), PayloadTooLarge past kMaxNodeLogBytes.
Result<uint64_t> WriteNodeLog(const std::filesystem::path& logs_dir, std::string_view rel,
                              uint64_t offset, std::string_view data);

}  // namespace lote::jobs
