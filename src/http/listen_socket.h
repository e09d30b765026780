// The server's listening socket, made by us rather than by the HTTP library
// so that its options are ours: SO_REUSEADDR (a restart may bind while old
// connections sit in TIME_WAIT) but never SO_REUSEPORT, so a port that
// another process listens on is refused instead of shared; close-on-exec, so
// agents started by the server do not inherit it; a backlog in the hundreds.
#pragma once

#include <string>

#include "common/status.h"
#include "http/response.h"

namespace lote::http {

struct ListenSocket {
  UniqueFd fd;
  int port = 0;  // the bound port (the one picked when asked for 0)
};

// Binds host:port (port 0 picks a free one) and listens. IoError naming
// host:port and the reason ("Address already in use") otherwise.
Result<ListenSocket> Listen(const std::string& host, int port, int backlog);

}  // namespace lote::http
