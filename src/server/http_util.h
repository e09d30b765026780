// The REST layer's plumbing: JSON bodies in, JSON results and errors out, and
// the one mapping from lote's error codes to HTTP status codes.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::server {

inline constexpr size_t kMaxJsonBodyBytes = 1 << 20;  // 1 MiB

int HttpStatusFor(ErrorCode code);

// {"error": {"code": "NotFound", "message": "…", "field": "…"}}
void SendError(httplib::Response& res, const Error& error);
void SendJson(httplib::Response& res, int status, const nlohmann::json& body);

// Parses the request body as a JSON object; InvalidArgument names the
// position of a syntax error.
Result<nlohmann::json> ParseJsonBody(const httplib::Request& req);

// Sends a Result<json> as `ok_status` or as an error.
void Reply(httplib::Response& res, const Result<nlohmann::json>& result, int ok_status = 200);
void Reply(httplib::Response& res, const Status& status, int ok_status = 204);

// The n-th regex capture of the route (percent-decoding already done by httplib).
std::string PathParam(const httplib::Request& req, size_t n);

}  // namespace lote::server
