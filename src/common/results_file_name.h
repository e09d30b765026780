// The name a local agent gives a result batch file it writes itself into its
// job's staging folder (docs/agent-api.md, "Results by file"): "agent-"
// followed by exactly 32 lowercase hex digits. The server takes no other
// name, so a reference can never climb out of the folder (no '/', no "..")
// nor name one of the server's own staged files ("incoming-…", ".upload-…").
//
// Header-only and pure (NewResultsFileName reads getrandom); thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/util.h"

namespace lote {

inline constexpr std::string_view kResultsFilePrefix = "agent-";
inline constexpr size_t kResultsFileHexDigits = 32;

inline std::string NewResultsFileName() {
  return std::string(kResultsFilePrefix) + RandomHex(kResultsFileHexDigits / 2);
}

inline bool IsResultsFileName(std::string_view name) {
  if (name.size() != kResultsFilePrefix.size() + kResultsFileHexDigits || !name.starts_with(kResultsFilePrefix)) {
    return false;
  }
  for (char c : name.substr(kResultsFilePrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace lote
