// Streams request bodies to files and files to responses, so uploads and
// downloads never hold a whole file in memory. Paths are resolved beneath
// their root (a datastore, an upload) by storage::Beneath: a link that leads
// out is refused (400 naming it), never followed.
#pragma once

#include <httplib.h>

#include <filesystem>
#include <string_view>

#include "common/status.h"
#include "storage/beneath.h"

namespace lote::server {

// Writes the body to `rel` beneath `root` (parent folders made) through a
// temporary name. AlreadyExists when rel exists: uploads never overwrite
// what is stored, and of two racing uploads exactly one is stored.
Status ReceiveFile(const httplib::ContentReader& reader, const storage::Beneath& root, std::string_view rel);

// Sends the file at `rel` beneath `root` as application/octet-stream, read
// from the descriptor that was checked.
Status SendFile(httplib::Response& res, const storage::Beneath& root, std::string_view rel);

// The same for a path in a folder lote made itself (a job's staging and log
// folders): its parent folder is the root, so the last component is never a
// link that leads out of it. ReceiveFile makes the parent folder first.
Status ReceiveFile(const httplib::ContentReader& reader, const std::filesystem::path& path);
Status SendFile(httplib::Response& res, const std::filesystem::path& path);

}  // namespace lote::server
