#include "model/names.h"

#include "model/spec_util.h"

#include <algorithm>
#include <cctype>

namespace lote::model {
namespace {

using internal::Quote;

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }

// Shared shape of the asset and version rules: a first letter or digit, then
// letters, digits, '-', '_', '.'.
Status CheckAssetLike(std::string_view value, std::string_view what, std::string_view kind,
                      size_t max_len, std::string field) {
  if (value.empty()) {
    return InvalidArgument(std::string(what) + " " + std::string(kind) + " is empty",
                           std::move(field));
  }
  bool ok = value.size() <= max_len && IsAlnum(value[0]) &&
            std::all_of(value.begin(), value.end(),
                        [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
  if (ok) return {};
  return InvalidArgument(std::string(what) + " " + std::string(kind) + " " + Quote(value) +
                             " is invalid: must start with a letter or digit, contain only "
                             "letters, digits, '-', '_' and '.', and be at most " +
                             std::to_string(max_len) + " characters",
                         std::move(field));
}

}  // namespace

Status ValidateResourceName(std::string_view name, std::string_view what, std::string field) {
  if (name.empty()) {
    return InvalidArgument(std::string(what) + " name is empty", std::move(field));
  }
  bool ok = name.size() >= 3 && name.size() <= kMaxResourceNameLength && IsAlpha(name.front()) &&
            IsAlnum(name.back()) &&
            std::all_of(name.begin(), name.end(), [](char c) { return IsAlnum(c) || c == '-'; });
  if (ok) return {};
  return InvalidArgument(std::string(what) + " name " + Quote(name) +
                             " is invalid: must start with a letter, contain only letters, "
                             "digits and '-', end with a letter or digit, and be 3 to " +
                             std::to_string(kMaxResourceNameLength) + " characters",
                         std::move(field));
}

Status ValidateAssetName(std::string_view name, std::string_view what, std::string field) {
  return CheckAssetLike(name, what, "name", 255, std::move(field));
}

Status ValidateVersion(std::string_view version, std::string_view what, std::string field) {
  return CheckAssetLike(version, what, "version", 64, std::move(field));
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string DidYouMean(std::string_view key, const std::vector<std::string_view>& allowed) {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const std::string k = lower(key);
  const size_t limit = std::max<size_t>(2, key.size() / 3);
  std::string_view best;
  size_t best_d = limit + 1;
  for (std::string_view a : allowed) {
    size_t d = EditDistance(k, lower(a));
    if (d < best_d) {
      best_d = d;
      best = a;
    }
  }
  if (best.empty()) return {};
  return " (did you mean '" + std::string(best) + "'?)";
}

}  // namespace lote::model
