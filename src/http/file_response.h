// A file answered in pieces read on the handler pool: internal to the server.
//
// sendfile(2) on the I/O thread would block every connection while a slow
// disk (an NFS datastore) reads. Instead, when MHD asks for bytes that are
// not buffered, the connection is suspended, the pool reads the next 256 KiB
// with pread(2), and the connection is resumed; MHD then asks again and gets
// them. A read error or a file that shrank ends the body short (the client
// sees fewer bytes than Content-Length) and is logged.
#pragma once

#include <microhttpd.h>

#include <cstdint>
#include <functional>
#include <string_view>

#include "http/response.h"

namespace lote::http {

// Runs `read` (which does not throw) on the pool with the connection
// suspended, and resumes it after; false (nothing run) when the server stops.
using SuspendedRunner = std::function<bool(std::function<void()> read)>;

// The MHD response for `size` bytes of `fd` from byte `offset` (owned,
// closed with the response). nullptr when MHD cannot make it.
MHD_Response* FileResponse(UniqueFd fd, uint64_t offset, uint64_t size, SuspendedRunner run,
                           std::function<void(std::string_view)> log);

}  // namespace lote::http
