#include "jobs/agent_access.h"

#include <string>

namespace lote::jobs {

AgentAccess ChooseAgentAccess(std::string_view compute_type, bool inputs_mounted_on_nodes,
                              std::optional<AccessMode> override_mode) {
  if (override_mode) return {*override_mode, *override_mode};
  // Local agents run on the server's host: every path they are given is there.
  if (compute_type == "local") return {AccessMode::kDirect, AccessMode::kDirect};
  // Anywhere else the server's home is not on the node; a mounted datastore is.
  return {AccessMode::kRemote, inputs_mounted_on_nodes ? AccessMode::kDirect : AccessMode::kRemote};
}

std::string_view AccessModeName(AccessMode mode) {
  return mode == AccessMode::kRemote ? "remote" : "direct";
}

Result<AccessMode> ParseAccessMode(std::string_view name) {
  if (name == "direct") return AccessMode::kDirect;
  if (name == "remote") return AccessMode::kRemote;
  return InvalidArgument("'" + std::string(name) + "' is not an access mode: direct or remote");
}

}  // namespace lote::jobs
