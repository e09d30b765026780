// lote's Response as libmicrohttpd's: internal to the server.
#pragma once

#include <microhttpd.h>

#include <functional>
#include <string_view>

#include "http/response.h"

namespace lote::http {

// Makes the MHD response of a string or provider body, taking it out of
// `res` (moved), with its headers (AddHeaders). nullptr when MHD cannot make
// it (out of memory); the reason is logged. File bodies: http/file_response.h.
MHD_Response* ToMhdResponse(Response& res, const std::function<void(std::string_view)>& log);

// res.headers, and "Connection: close" when res.close. A header MHD refuses
// (a value with a line break) is logged and left out.
void AddHeaders(MHD_Response* r, const Response& res, const std::function<void(std::string_view)>& log);

}  // namespace lote::http
