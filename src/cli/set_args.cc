#include "cli/set_args.h"

#include <algorithm>

namespace lote::cli {

nlohmann::json SetValue(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_discarded() && (j.is_number() || j.is_boolean())) return j;
  return text;
}

Result<std::vector<SetArg>> ParseSetArgs(const std::vector<std::string>& args,
                                         const std::string& flag) {
  std::vector<SetArg> out;
  for (const std::string& kv : args) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument(flag + " '" + kv + "' must be path=value, e.g. "
                             "defaults.deployment_name=blue", flag);
    }
    std::string path = kv.substr(0, eq);
    if (path.front() == '.' || path.back() == '.' || path.find("..") != std::string::npos) {
      return InvalidArgument(flag + " '" + kv + "': '" + path + "' is not a dotted path", flag);
    }
    // No resource is deeper than a few levels; a bound keeps a hostile path
    // from building a document too deep to print.
    constexpr long kMaxDepth = 16;
    if (std::count(path.begin(), path.end(), '.') >= kMaxDepth) {
      return InvalidArgument(flag + ": '" + path.substr(0, 64) + "…' is deeper than " +
                             std::to_string(kMaxDepth) + " levels", flag);
    }
    out.push_back({path, SetValue(kv.substr(eq + 1))});
  }
  return out;
}

Status ApplySetArg(nlohmann::json& doc, const SetArg& set) {
  nlohmann::json* at = &doc;
  size_t start = 0;
  while (true) {
    size_t dot = set.path.find('.', start);
    std::string key = set.path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (at->is_null()) *at = nlohmann::json::object();
    if (!at->is_object()) {
      return InvalidArgument("--set " + set.path + ": '" + set.path.substr(0, start - 1) +
                             "' is not a mapping", "--set");
    }
    if (dot == std::string::npos) {
      (*at)[key] = set.value;
      return {};
    }
    at = &(*at)[key];
    start = dot + 1;
  }
}

}  // namespace lote::cli
