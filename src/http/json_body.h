// JSON request bodies, checked before they are trusted.
//
// Order: the size limit (the server refuses a larger body before reading
// it), then a non-recursive scan that refuses nesting deeper than the limit
// (a DOM of 100,000 nested arrays overflows the stack of any recursive code
// that later copies, compares or destroys it), then nlohmann's parser, whose
// every failure (syntax, a number that overflows a double such as 1e400,
// invalid UTF-8) comes back as InvalidArgument naming the byte. Nothing here
// throws.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::http {

inline constexpr size_t kMaxJsonBodyBytes = 1 << 20;  // 1 MiB
inline constexpr int kMaxJsonDepth = 64;

// InvalidArgument naming the limit and the byte of the first '[' or '{' that
// opens one level too many. Brackets inside strings do not count. Says
// nothing about any other syntax (the parser does).
Status CheckJsonNesting(std::string_view text, int max_depth = kMaxJsonDepth);

// CheckJsonNesting, then parse: "malformed JSON body at byte N: …" for any
// syntax or range error, and for a raw NUL byte anywhere (nlohmann would take
// it for the end of the text). Any JSON value is returned (the caller decides
// whether it wants an object).
Result<nlohmann::json> ParseJson(std::string_view text, int max_depth = kMaxJsonDepth);

}  // namespace lote::http
