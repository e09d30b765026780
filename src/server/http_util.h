// The REST layer's plumbing: JSON bodies in, JSON results and errors out, and
// the one mapping from lote's error codes to HTTP status codes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "http/request.h"
#include "http/response.h"

namespace lote::server {

int HttpStatusFor(ErrorCode code);

// {"error": {"code": "NotFound", "message": "…", "field": "…"}}
void SendError(http::Response& res, const Error& error);
void SendJson(http::Response& res, int status, const nlohmann::json& body);

// Parses the request body as a JSON object (size, nesting and syntax checked
// by http::ParseJson); InvalidArgument names what is wrong and where.
Result<nlohmann::json> ParseJsonBody(const http::Request& req);

// Sends a Result<json> as `ok_status` or as an error.
void Reply(http::Response& res, const Result<nlohmann::json>& result, int ok_status = 200);
void Reply(http::Response& res, const Status& status, int ok_status = 204);

// The route's capture `name`, decoded.
std::string PathParam(const http::Request& req, std::string_view name);

// An integer from a path segment or query parameter: decimal digits only
// (an optional '-' when min < 0), within [min, max]. InvalidArgument naming
// `what` otherwise (never an exception, unlike std::stoll).
Result<int64_t> ParseInteger(std::string_view text, std::string_view what, int64_t min, int64_t max);

}  // namespace lote::server
