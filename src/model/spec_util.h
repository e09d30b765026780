// Internal helpers of the spec normalizers (model/*_spec.cc). Not part of
// lote::model's public contract: other subsystems include specs.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::model::internal {

using Json = nlohmann::json;

// 'text' for a message: truncated, control characters escaped.
std::string Quote(std::string_view s);
// A JSON value for a message: 'abc', 5, true, null, "a list", "a mapping".
std::string Show(const Json& v);

// Converts an integer given as a number, an integral double or an integer
// string; `label` names the field in the message.
Result<int64_t> ToInt(const Json& v, std::string_view label, std::string field);
// A version: a string, or a number written as text (1 -> "1"); validated.
Result<std::string> ToVersion(const Json& v, std::string_view what, std::string field);
// ParseTimeoutSeconds (specs.h) with a message label apart from the error field.
Result<int64_t> ParseTimeout(const Json& v, std::string_view label, std::string field);
// Lower-cases ASCII.
std::string Lower(std::string_view s);
// Strips surrounding ASCII whitespace.
std::string_view Trim(std::string_view s);

// A view of one JSON object of the input with the keys it may hold.
//   at:  the object's path in the input document (for Error::field()).
//   rel: its path inside the resource, for messages ("retry_settings").
class ObjectReader {
 public:
  // Fails unless `in` is an object whose keys are all in `allowed` or
  // `ignored` (ignored keys are server-managed and dropped). `what` names the
  // object in messages ("deployment", "retry_settings").
  static Result<ObjectReader> Open(const Json& in, std::string_view what, std::string at,
                                   std::string rel, std::vector<std::string_view> allowed,
                                   std::vector<std::string_view> ignored = {});

  // The value of `key`, or nullptr when absent or null.
  const Json* Get(std::string_view key) const;
  bool Has(std::string_view key) const { return Get(key) != nullptr; }
  // Input path and message label of `key`.
  std::string Field(std::string_view key) const;
  std::string Label(std::string_view key) const;
  const std::string& at() const { return at_; }
  const std::string& rel() const { return rel_; }

  Result<std::string> String(std::string_view key, std::string def = {}) const;
  Result<std::string> RequiredString(std::string_view key) const;
  Result<std::optional<std::string>> OptionalString(std::string_view key) const;
  // An integer in [min, max] (default `def` when absent).
  Result<int64_t> Int(std::string_view key, int64_t def, int64_t min,
                      int64_t max = INT64_MAX) const;
  Result<bool> Bool(std::string_view key, bool def) const;
  // A required or optional version, as a string.
  Result<std::optional<std::string>> Version(std::string_view key, std::string_view what) const;

 private:
  ObjectReader(const Json* obj, std::string at, std::string rel)
      : obj_(obj), at_(std::move(at)), rel_(std::move(rel)) {}
  const Json* obj_;
  std::string at_;
  std::string rel_;
};

// Shared between deployment_spec.cc and asset_spec.cc: an inline model of a
// deployment {name, version, local_path | path, type, description}, kept as
// given but with version as a string.
Result<Json> NormalizeInlineModel(const Json& in, std::string at, std::string rel);
// mlflow_model | custom_model | xgboost | torchscript.
Result<std::string> NormalizeModelType(const Json& v, std::string_view label, std::string field);
// `tags` of an endpoint or deployment: a mapping of name -> scalar, kept as
// strings (numbers and booleans as written, null as ""); {} when absent.
// At most 64 tags, names up to 256 bytes and values up to 1024.
Result<Json> Tags(const ObjectReader& r);
// A path relative to some root: not empty, not absolute, no ".." component.
Status CheckRelativePath(std::string_view path, std::string_view label, std::string field);

}  // namespace lote::model::internal
