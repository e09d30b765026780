// Streams request bodies to files and files to responses, so uploads and
// downloads never hold a whole file in memory.
#pragma once

#include <httplib.h>

#include <filesystem>

#include "common/status.h"

namespace lote::server {

// Writes the body to `path` through a temporary name. AlreadyExists when
// `path` exists: uploads never overwrite what is stored.
Status ReceiveFile(const httplib::ContentReader& reader, const std::filesystem::path& path);

// Sends the file as application/octet-stream.
Status SendFile(httplib::Response& res, const std::filesystem::path& path);

}  // namespace lote::server
