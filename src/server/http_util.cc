#include "server/http_util.h"

#include <charconv>

#include "http/json_body.h"

namespace lote::server {

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAlreadyExists: return 409;
    case ErrorCode::kFailedPrecondition: return 409;
    case ErrorCode::kPayloadTooLarge: return 413;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kIo: return 500;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

void SendJson(http::Response& res, int status, const nlohmann::json& body) {
  res.SetString(status, body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                "application/json");
}

void SendError(http::Response& res, const Error& error) {
  nlohmann::json e = {{"code", ErrorCodeName(error.code())}, {"message", error.message()}};
  if (!error.field().empty()) e["field"] = error.field();
  SendJson(res, HttpStatusFor(error.code()), {{"error", e}});
}

Result<nlohmann::json> ParseJsonBody(const http::Request& req) {
  if (req.body.size() > http::kMaxJsonBodyBytes) {
    return Error(ErrorCode::kPayloadTooLarge, "request body is over the 1 MiB limit");
  }
  if (req.body.empty()) return InvalidArgument("request body is empty; expected a JSON object");
  LOTE_ASSIGN_OR_RETURN(nlohmann::json j, http::ParseJson(req.body));
  if (!j.is_object()) return InvalidArgument("request body must be a JSON object");
  return j;
}

void Reply(http::Response& res, const Result<nlohmann::json>& result, int ok_status) {
  if (result) {
    SendJson(res, ok_status, *result);
  } else {
    SendError(res, result.error());
  }
}

void Reply(http::Response& res, const Status& status, int ok_status) {
  if (status) {
    res.SetString(ok_status, "", "");
  } else {
    SendError(res, status.error());
  }
}

std::string PathParam(const http::Request& req, std::string_view name) {
  return std::string(req.Param(name));
}

Result<int64_t> ParseInteger(std::string_view text, std::string_view what, int64_t min, int64_t max) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  bool digits = !text.empty() && (text.front() != '-' || min < 0);
  if (!digits || ec != std::errc() || p != end || v < min || v > max) {
    std::string shown = text.size() > 40 ? std::string(text.substr(0, 40)) + "…" : std::string(text);
    return InvalidArgument(std::string(what) + " must be an integer from " + std::to_string(min) +
                           " to " + std::to_string(max) + ", not '" + shown + "'");
  }
  return v;
}

}  // namespace lote::server
