// lote's Response as libmicrohttpd's: internal to the server.
#pragma once

#include <microhttpd.h>

#include <functional>
#include <string_view>

#include "http/response.h"

namespace lote::http {

// Makes the MHD response, taking the body out of `res` (the string is moved,
// the file descriptor passes to MHD, which closes it, the provider is moved),
// with its headers and "Connection: close" when `res.close`. nullptr when MHD
// cannot make it (out of memory); the reason is logged.
MHD_Response* ToMhdResponse(Response& res, const std::function<void(std::string_view)>& log);

}  // namespace lote::http
