// Name and version rules shared by the CLI and the server.
//
// Resources that become URL segments and folder names (endpoints,
// deployments, computes, datastores) follow Azure's endpoint rule
// ^[a-zA-Z][-a-zA-Z0-9]+[a-zA-Z0-9]$, at most 32 characters. Model and data
// assets follow Azure's asset rule ^[a-zA-Z0-9][-_.a-zA-Z0-9]{0,254}$ and
// versions ^[a-zA-Z0-9][-_.a-zA-Z0-9]{0,63}$. Each check returns
// InvalidArgument naming `what` ("endpoint", "model", ...), the bad value and
// the rule, with `field` as the error's field.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lote::model {

inline constexpr size_t kMaxResourceNameLength = 32;

Status ValidateResourceName(std::string_view name, std::string_view what, std::string field);
Status ValidateAssetName(std::string_view name, std::string_view what, std::string field);
Status ValidateVersion(std::string_view version, std::string_view what, std::string field);

// " (did you mean 'mini_batch_size'?)" when some allowed key is within
// Levenshtein distance max(2, len(key)/3) of `key` (compared case-insensitively;
// the closest wins, the first on a tie); "" otherwise.
std::string DidYouMean(std::string_view key, const std::vector<std::string_view>& allowed);

// Levenshtein distance, exposed for tests.
size_t EditDistance(std::string_view a, std::string_view b);

}  // namespace lote::model
