// Request-target parsing: percent-decoding, the path/query split and query
// parameters. Plain scanners over bytes (no regex on request text).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lote::http {

// Decodes %XX escapes (and '+' as a space when `plus_is_space`). nullopt for a
// '%' not followed by two hex digits, or for an escape that decodes to a NUL
// byte (a NUL would cut a file name short further down).
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space = false);

// "/a/b?x=1" -> {"/a/b", "x=1"}; the query is empty when there is no '?'.
std::pair<std::string_view, std::string_view> SplitTarget(std::string_view target);

// "a=1&b=x%20y&c" -> {{"a","1"},{"b","x y"},{"c",""}}. A key or value with a
// malformed escape is kept as sent rather than refused: query parameters are
// optional hints (?name=, ?offset=) that their routes validate themselves.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace lote::http
