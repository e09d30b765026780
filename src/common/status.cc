#include "common/status.h"

namespace lote {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "InvalidArgument";
    case ErrorCode::kNotFound: return "NotFound";
    case ErrorCode::kAlreadyExists: return "AlreadyExists";
    case ErrorCode::kFailedPrecondition: return "FailedPrecondition";
    case ErrorCode::kUnauthenticated: return "Unauthenticated";
    case ErrorCode::kPermissionDenied: return "PermissionDenied";
    case ErrorCode::kPayloadTooLarge: return "PayloadTooLarge";
    case ErrorCode::kUnavailable: return "Unavailable";
    case ErrorCode::kIo: return "IoError";
    case ErrorCode::kInternal: return "Internal";
  }
  return "Unknown";
}

ErrorCode ErrorCodeFromName(std::string_view name) {
  for (int c = 0; c <= static_cast<int>(ErrorCode::kInternal); ++c) {
    if (ErrorCodeName(static_cast<ErrorCode>(c)) == name) return static_cast<ErrorCode>(c);
  }
  return ErrorCode::kInternal;
}

Error Error::WithContext(std::string_view context) const {
  return Error(code_, std::string(context) + ": " + message_, field_);
}

Error Error::UnderField(std::string_view parent) const {
  if (parent.empty()) return *this;
  std::string f(parent);
  if (!field_.empty()) f += "." + field_;
  return Error(code_, message_, f);
}

void CheckFailed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "lote: internal invariant broken: %s at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace lote
