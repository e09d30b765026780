// lote's one error type across module boundaries.
//
// Every fallible function returns Result<T> (a [[nodiscard]] std::expected
// with an Error). An Error carries a code (mapped to HTTP in
// server/http_status.cc and to CLI exit codes in cli/exit_code.cc), a message
// that names what failed, and optionally the field (a dotted path such as
// "deployments.blue.mini_batch_size") the error is about. Context is added as
// the error travels up: err.WithContext("deployment 'blue'").
//
// Exceptions thrown by dependencies (yaml-cpp, nlohmann-json, std::filesystem)
// are caught at the call site and turned into an Error. A broken internal
// invariant is not an Error: it aborts (LOTE_CHECK).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace lote {

enum class ErrorCode {
  kInvalidArgument,     // bad request, bad file, bad value
  kNotFound,            // a named resource does not exist
  kAlreadyExists,       // a name is taken, an output location exists
  kFailedPrecondition,  // valid request, wrong state (e.g. model in use)
  kUnauthenticated,     // missing or bad token
  kPermissionDenied,    // token valid but not for this
  kPayloadTooLarge,     // request body over the limit
  kUnavailable,         // server unreachable
  kIo,                  // filesystem or network I/O failed
  kInternal,            // unexpected failure of a dependency
};

std::string_view ErrorCodeName(ErrorCode code);
// Inverse of ErrorCodeName; kInternal for unknown names.
ErrorCode ErrorCodeFromName(std::string_view name);

class Error {
 public:
  Error(ErrorCode code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Dotted path of the offending field, empty when not about one field.
  const std::string& field() const { return field_; }

  // "context: message". Keeps code and field.
  Error WithContext(std::string_view context) const;
  // Prefixes the field path: "deployments.blue" + "model" -> "deployments.blue.model".
  Error UnderField(std::string_view parent) const;

 private:
  ErrorCode code_;
  std::string message_;
  std::string field_;
};

template <class T>
class [[nodiscard]] Result : public std::expected<T, Error> {
 public:
  using std::expected<T, Error>::expected;
  Result(const Error& e) : std::expected<T, Error>(std::unexpected(e)) {}  // NOLINT
  Result(Error&& e) : std::expected<T, Error>(std::unexpected(std::move(e))) {}  // NOLINT
};

using Status = Result<void>;

inline Error InvalidArgument(std::string msg, std::string field = {}) {
  return Error(ErrorCode::kInvalidArgument, std::move(msg), std::move(field));
}
inline Error NotFound(std::string msg, std::string field = {}) {
  return Error(ErrorCode::kNotFound, std::move(msg), std::move(field));
}
inline Error AlreadyExists(std::string msg, std::string field = {}) {
  return Error(ErrorCode::kAlreadyExists, std::move(msg), std::move(field));
}
inline Error FailedPrecondition(std::string msg, std::string field = {}) {
  return Error(ErrorCode::kFailedPrecondition, std::move(msg), std::move(field));
}
inline Error IoError(std::string msg) { return Error(ErrorCode::kIo, std::move(msg)); }
inline Error Internal(std::string msg) { return Error(ErrorCode::kInternal, std::move(msg)); }

[[noreturn]] void CheckFailed(const char* expr, const char* file, int line);

}  // namespace lote

// Aborts on a broken internal invariant (never for bad input).
#define LOTE_CHECK(cond) \
  do { \
    if (!(cond)) ::lote::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (0)

// Propagates an error: LOTE_TRY(DoThing()); works for Status and Result<T>.
#define LOTE_TRY(expr) \
  do { \
    auto lote_try_r_ = (expr); \
    if (!lote_try_r_) return lote_try_r_.error(); \
  } while (0)

#define LOTE_CONCAT_INNER(a, b) a##b
#define LOTE_CONCAT(a, b) LOTE_CONCAT_INNER(a, b)
// LOTE_ASSIGN_OR_RETURN(auto x, MakeX()); declares x from a Result<T>.
#define LOTE_ASSIGN_OR_RETURN(lhs, expr) \
  LOTE_ASSIGN_OR_RETURN_IMPL(LOTE_CONCAT(lote_r_, __LINE__), lhs, expr)
#define LOTE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr); \
  if (!tmp) return tmp.error(); \
  lhs = std::move(*tmp)
