#include "server/http_util.h"

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

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                  "application/json");
}

void SendError(httplib::Response& res, const Error& error) {
  nlohmann::json e = {{"code", ErrorCodeName(error.code())}, {"message", error.message()}};
  if (!error.field().empty()) e["field"] = error.field();
  SendJson(res, HttpStatusFor(error.code()), {{"error", e}});
}

Result<nlohmann::json> ParseJsonBody(const httplib::Request& req) {
  if (req.body.size() > kMaxJsonBodyBytes) {
    return Error(ErrorCode::kPayloadTooLarge, "request body is over the 1 MiB limit");
  }
  if (req.body.empty()) return InvalidArgument("request body is empty; expected a JSON object");
  try {
    auto j = nlohmann::json::parse(req.body);
    if (!j.is_object()) return InvalidArgument("request body must be a JSON object");
    return j;
  } catch (const nlohmann::json::parse_error& e) {
    return InvalidArgument("malformed JSON body at byte " + std::to_string(e.byte) + ": " +
                           e.what());
  }
}

void Reply(httplib::Response& res, const Result<nlohmann::json>& result, int ok_status) {
  if (result) {
    SendJson(res, ok_status, *result);
  } else {
    SendError(res, result.error());
  }
}

void Reply(httplib::Response& res, const Status& status, int ok_status) {
  if (status) {
    res.status = ok_status;
  } else {
    SendError(res, status.error());
  }
}

std::string PathParam(const httplib::Request& req, size_t n) {
  return n < req.matches.size() ? std::string(req.matches[n]) : std::string();
}

}  // namespace lote::server
