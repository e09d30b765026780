// The small value parsers of specs.h: sizes, timeouts, references, traffic.
#include <algorithm>
#include <charconv>
#include <optional>

#include "model/names.h"
#include "model/spec_util.h"
#include "model/specs.h"
#include "model/yaml_doc.h"

namespace lote::model {
namespace {

using internal::Json;
using internal::Lower;
using internal::Quote;
using internal::Show;
using internal::ToInt;
using internal::Trim;

constexpr int64_t kMaxTimeoutSeconds = 30LL * 24 * 3600;

// Parses leading decimal digits of `s` into `out`; returns how many were read
// (0 when none, or when the value overflows).
size_t ReadDigits(std::string_view s, uint64_t& out) {
  size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  if (n == 0) return 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + n, out);
  if (ec != std::errc()) return 0;
  return n;
}

bool MulOverflows(uint64_t a, uint64_t b, uint64_t& out) {
  return __builtin_mul_overflow(a, b, &out);
}

// ISO 8601 duration without years/months: P[nD][T[nH][nM][nS]], whole numbers.
std::optional<uint64_t> ParseIsoDuration(std::string_view s) {
  if (s.empty() || (s[0] != 'P' && s[0] != 'p')) return std::nullopt;
  s.remove_prefix(1);
  bool in_time = false, any = false;
  uint64_t total = 0;
  while (!s.empty()) {
    if (s[0] == 'T' || s[0] == 't') {
      if (in_time) return std::nullopt;
      in_time = true;
      s.remove_prefix(1);
      continue;
    }
    uint64_t n = 0;
    size_t used = ReadDigits(s, n);
    if (used == 0 || used >= s.size()) return std::nullopt;
    char unit = static_cast<char>(s[used] & ~0x20);  // upper-case
    s.remove_prefix(used + 1);
    uint64_t mult = 0;
    if (!in_time && unit == 'D') mult = 86400;
    else if (in_time && unit == 'H') mult = 3600;
    else if (in_time && unit == 'M') mult = 60;
    else if (in_time && unit == 'S') mult = 1;
    else return std::nullopt;
    uint64_t part = 0;
    if (MulOverflows(n, mult, part) || __builtin_add_overflow(total, part, &total)) {
      return std::nullopt;
    }
    any = true;
  }
  if (!any) return std::nullopt;
  return total;
}

}  // namespace

Result<uint64_t> ParseByteSize(std::string_view text) {
  std::string_view s = Trim(text);
  auto bad = [&] {
    return InvalidArgument("size " + Quote(text) +
                           " is invalid: expected a whole number with an optional unit B, KB, "
                           "MB, GB or TB (such as '64MB')");
  };
  uint64_t n = 0;
  size_t used = ReadDigits(s, n);
  if (used == 0) return bad();
  std::string unit = Lower(Trim(s.substr(used)));
  uint64_t mult = 0;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "kb" || unit == "kib" || unit == "k") mult = 1ULL << 10;
  else if (unit == "mb" || unit == "mib" || unit == "m") mult = 1ULL << 20;
  else if (unit == "gb" || unit == "gib" || unit == "g") mult = 1ULL << 30;
  else if (unit == "tb" || unit == "tib" || unit == "t") mult = 1ULL << 40;
  else return bad();
  uint64_t out = 0;
  if (MulOverflows(n, mult, out)) return bad();
  return out;
}

namespace internal {

// ParseTimeoutSeconds with a message label apart from the error field.
Result<int64_t> ParseTimeout(const Json& v, std::string_view label, std::string field) {
  auto bad = [&] {
    return InvalidArgument(std::string(label) +
                               " must be a positive number of seconds (30, \"30s\", \"2m\", "
                               "\"PT30S\"), got " + Show(v),
                           field);
  };
  uint64_t secs = 0;
  if (v.is_boolean() || v.is_null() || v.is_object() || v.is_array()) return bad();
  if (v.is_number()) {
    LOTE_ASSIGN_OR_RETURN(int64_t n, ToInt(v, label, field));
    if (n <= 0) {
      return InvalidArgument(std::string(label) + " must be > 0 seconds, got " +
                                 std::to_string(n),
                             field);
    }
    secs = static_cast<uint64_t>(n);
  } else {
    std::string_view s = Trim(v.get_ref<const std::string&>());
    if (auto iso = ParseIsoDuration(s)) {
      secs = *iso;
    } else {
      bool neg = s.starts_with('-');
      if (neg) s.remove_prefix(1);
      uint64_t n = 0;
      size_t used = ReadDigits(s, n);
      if (used == 0) return bad();
      std::string unit = Lower(Trim(s.substr(used)));
      uint64_t mult = 0;
      if (unit.empty() || unit == "s" || unit == "sec" || unit == "seconds") mult = 1;
      else if (unit == "m" || unit == "min" || unit == "minutes") mult = 60;
      else if (unit == "h" || unit == "hours") mult = 3600;
      else return bad();
      if (MulOverflows(n, mult, secs)) return bad();
      if (neg && secs > 0) {
        return InvalidArgument(std::string(label) + " must be > 0 seconds, got " + Show(v),
                               field);
      }
    }
    if (secs == 0) {
      return InvalidArgument(std::string(label) + " must be > 0 seconds, got " + Show(v), field);
    }
  }
  if (secs > static_cast<uint64_t>(kMaxTimeoutSeconds)) {
    return InvalidArgument(std::string(label) + " is " + Show(v) + "; at most " +
                               std::to_string(kMaxTimeoutSeconds) + " seconds (30 days)",
                           field);
  }
  return static_cast<int64_t>(secs);
}

}  // namespace internal

Result<int64_t> ParseTimeoutSeconds(const nlohmann::json& v, std::string_view field) {
  return internal::ParseTimeout(v, field, std::string(field));
}

std::string ModelRef::ToString() const {
  return version.empty() ? "azureml:" + name + "@latest" : "azureml:" + name + ":" + version;
}

Result<ModelRef> ParseModelRef(std::string_view ref) {
  const std::string shown = Quote(ref);
  std::string_view s = ref;
  if (s.starts_with("azureml:")) s.remove_prefix(8);
  ModelRef out;
  if (s.starts_with("//")) {
    return InvalidArgument("model reference " + shown +
                           " is invalid: registry references are not supported; use "
                           "'azureml:<name>:<version>'");
  }
  if (s.find('/') != std::string_view::npos) {
    // ARM id: .../models/<name>/versions/<version>
    size_t m = s.rfind("/models/");
    size_t v = s.rfind("/versions/");
    if (m == std::string_view::npos || v == std::string_view::npos || v < m) {
      return InvalidArgument("model reference " + shown +
                             " is invalid: expected 'azureml:<name>:<version>'");
    }
    out.name = std::string(s.substr(m + 8, v - m - 8));
    out.version = std::string(s.substr(v + 10));
  } else if (size_t at = s.find('@'); at != std::string_view::npos) {
    out.name = std::string(s.substr(0, at));
    std::string_view label = s.substr(at + 1);
    if (label != "latest") {
      return InvalidArgument("model reference " + shown + " is invalid: the only label is " +
                             "'@latest'");
    }
  } else if (size_t colon = s.find(':'); colon != std::string_view::npos) {
    out.name = std::string(s.substr(0, colon));
    out.version = std::string(s.substr(colon + 1));
    if (out.version.empty()) {
      return InvalidArgument("model reference " + shown + " has an empty version");
    }
  } else {
    return InvalidArgument("model reference " + shown + " needs a version: use 'azureml:" +
                           std::string(s) + ":<version>' or 'azureml:" + std::string(s) +
                           "@latest'");
  }
  auto named = [&](Error e) { return e.WithContext("model reference " + shown); };
  if (auto st = ValidateAssetName(out.name, "model", ""); !st) return named(st.error());
  if (!out.version.empty()) {
    if (auto st = ValidateVersion(out.version, "model", ""); !st) return named(st.error());
  }
  return out;
}

Result<std::string> ParseComputeRef(std::string_view ref) {
  std::string_view s = ref;
  if (s.starts_with("azureml:")) s.remove_prefix(8);
  if (size_t slash = s.rfind('/'); slash != std::string_view::npos) s = s.substr(slash + 1);
  if (auto st = ValidateResourceName(s, "compute", ""); !st) {
    return st.error().WithContext("compute reference " + Quote(ref));
  }
  return std::string(s);
}

Status ValidateTraffic(const nlohmann::json& traffic,
                       const std::vector<std::string>& deployment_names, std::string_view at) {
  LOTE_TRY(NormalizeTraffic(traffic, deployment_names, at));
  return {};
}

Result<nlohmann::json> NormalizeTraffic(const nlohmann::json& traffic,
                                        const std::vector<std::string>& deployment_names,
                                        std::string_view at) {
  Json out = Json::object();
  if (traffic.is_null()) return out;
  if (!traffic.is_object()) {
    return InvalidArgument("traffic must be a mapping of deployment name to 0 or 100, got " +
                               Show(traffic),
                           std::string(at));
  }
  std::string full;  // the deployment that has 100
  for (const auto& [name, value] : traffic.items()) {
    std::string field = JoinField(at, name);
    if (value.is_boolean()) {
      return InvalidArgument("traffic for deployment " + Quote(name) + " must be 0 or 100, got " +
                                 Show(value),
                             field);
    }
    LOTE_ASSIGN_OR_RETURN(int64_t n, ToInt(value, "traffic for deployment " + Quote(name), field));
    if (n != 0 && n != 100) {
      return InvalidArgument("traffic for deployment " + Quote(name) + " is " +
                                 std::to_string(n) +
                                 "; batch endpoints accept only 0 or 100 (the deployment with "
                                 "100 runs every job)",
                             field);
    }
    if (std::find(deployment_names.begin(), deployment_names.end(), name) ==
        deployment_names.end()) {
      std::string known;
      for (const auto& d : deployment_names) known += (known.empty() ? "" : ", ") + d;
      return InvalidArgument("traffic names deployment " + Quote(name) +
                                 ", which this endpoint does not have" +
                                 (known.empty() ? " (it has no deployments)"
                                                : " (deployments: " + known + ")"),
                             field);
    }
    if (n == 100) {
      if (!full.empty()) {
        return InvalidArgument("traffic gives 100 to both " + Quote(full) + " and " +
                                   Quote(name) + "; at most one deployment can have 100",
                               field);
      }
      full = name;
    }
    out[name] = n;
  }
  return out;
}

Result<nlohmann::json> ParseTrafficArg(std::string_view arg) {
  Json out = Json::object();
  auto bad = [&](std::string why) {
    return InvalidArgument("--traffic " + Quote(arg) + " is invalid: " + why +
                           " (expected name:100 or name:100,other:0)");
  };
  std::string_view rest = arg;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view part = Trim(rest.substr(0, comma));
    if (part.empty()) return bad("empty entry");
    size_t sep = part.find_first_of(":=");
    if (sep == std::string_view::npos) return bad(Quote(part) + " has no ':'");
    std::string name(Trim(part.substr(0, sep)));
    std::string_view value = Trim(part.substr(sep + 1));
    if (auto st = ValidateResourceName(name, "deployment", ""); !st) {
      return bad(st.error().message());
    }
    if (out.contains(name)) return bad("deployment " + Quote(name) + " appears twice");
    auto n = ToInt(Json(std::string(value)), "traffic", "");
    if (!n || (*n != 0 && *n != 100)) {
      return bad("the value for " + Quote(name) + " is " + Quote(value) +
                 "; batch endpoints accept only 0 or 100");
    }
    out[name] = *n;
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return out;
}

}  // namespace lote::model
