// Streams a file as the body of an httplib client's request (the CLI's
// uploads) in 64 KiB reads, so no whole file is held in memory. (The
// server answers files through http/file_response.h.)
#pragma once

#include <httplib.h>

#include <cstddef>
#include <filesystem>

#include "common/status.h"

namespace lote::http {

struct FileBody {
  size_t size = 0;
  httplib::ContentProvider provider;  // keeps the file open while it is used
};

// IoError naming the file when it cannot be sized or opened.
Result<FileBody> StreamFile(const std::filesystem::path& path);

}  // namespace lote::http
