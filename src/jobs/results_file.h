// The server's side of results by file (docs/agent-api.md, "Results by
// file"): a local agent writes its result batch (jobs/result_batch.h) into
// the job's staging folder itself and posts only the file's name and size.
// The reference comes from the network and is treated as hostile:
//
//   - the name must be exactly "agent-<32 lowercase hex>" (IsResultsFileName):
//     no '/', no "..", bounded length;
//   - the file is opened beneath the staging folder, that folder and the
//     file each with O_NOFOLLOW (and O_PATH: opening a fifo or a device has
//     no side effect and never blocks); it must be a regular file with one
//     link (not a hard link to a file elsewhere), owned by the server's user,
//     of exactly the posted size;
//   - it is then renamed (RENAME_NOREPLACE) to a name the server chose, and
//     the renamed entry must still be the very file that was checked (same
//     device and inode), so a swap between the check and the rename is caught.
//
// ClaimResultsFile returns the claimed path, which CommitResults takes like a
// received body (it reads and checks the metadata, and renames the file into
// results/ in one transaction with the tasks). Errors name the field:
// InvalidArgument "file" (bad name, not a regular file, a link, …) or
// "bytes" (size mismatch), NotFound "file" (no such file: the agent is on
// another host, or a retry after the file was already taken), Io otherwise.
// Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "common/status.h"

namespace lote::jobs {

Result<std::filesystem::path> ClaimResultsFile(const std::filesystem::path& staging, std::string_view name,
                                               uint64_t bytes);

}  // namespace lote::jobs
