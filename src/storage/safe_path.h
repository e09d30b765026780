// Paths inside a root folder (a datastore, the model store, an upload) that
// cannot escape it: absolute paths, "..", empty segments and NUL are refused.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lote::storage {

// Checks a relative path such as "data/taxi.csv" and returns it normalized
// (no "." segments, no trailing '/'). "" and "." give "" (the root itself).
Result<std::string> NormalizeRelativePath(std::string_view rel);

// root / rel, refusing anything that would leave root. Symlinks inside root
// that point outside are refused too when they exist.
Result<std::filesystem::path> SafeJoin(const std::filesystem::path& root, std::string_view rel);

}  // namespace lote::storage
