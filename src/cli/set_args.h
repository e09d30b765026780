// az's generic `--set path=value`: dotted paths into a resource document.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::cli {

struct SetArg {
  std::string path;  // "defaults.deployment_name", "settings.mini_batch_size"
  nlohmann::json value;
};

// "5" -> 5, "true" -> true, "x" -> "x": a value keeps its JSON type when it
// has a scalar one, as az reads it.
nlohmann::json SetValue(const std::string& text);

// Parses each "path=value" (`flag` names the option in errors). A path is one
// or more names joined by '.', each non-empty.
Result<std::vector<SetArg>> ParseSetArgs(const std::vector<std::string>& args,
                                         const std::string& flag = "--set");

// Writes value at path into doc, creating objects on the way; refuses to go
// through a value that is not an object (naming the path).
Status ApplySetArg(nlohmann::json& doc, const SetArg& set);

}  // namespace lote::cli
