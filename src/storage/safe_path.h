// Relative paths inside a root folder (a datastore, the model store, an
// upload): the lexical rules, and a path-returning check for callers that
// cannot hold a descriptor. New code should use storage::Beneath
// (storage/beneath.h), which checks and opens in one step.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lote::storage {

// Checks a relative path such as "data/taxi.csv" and returns it normalized
// (no "." segments, no empty segments, no trailing '/'). "" and "." give ""
// (the root itself). The normal form is accepted back unchanged.
// InvalidArgument, naming the rule, for an absolute path ('/' or '\\' first,
// also after "./"), "..", a NUL, a name over NAME_MAX (255 bytes) or a path
// over PATH_MAX.
Result<std::string> NormalizeRelativePath(std::string_view rel);

// root / rel (lexically), after checking that rel, resolved beneath root
// with its symbolic links, does not lead outside: InvalidArgument naming the
// link when it does. The part of rel that does not exist yet is checked up
// to its longest existing prefix. A check, then a path: the folder may
// change before the caller uses it; prefer Beneath.
Result<std::filesystem::path> SafeJoin(const std::filesystem::path& root, std::string_view rel);

}  // namespace lote::storage
