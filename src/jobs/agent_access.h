// How a job's agents reach what they need (docs/agent-api.md, "Access"):
// directly by path on their own disk, or through the control plane.
//
//   artifacts  the model, the code and the Python runner, and where the agent
//              writes its logs: by path under the server's home (direct), or
//              fetched by hash and uploaded (remote);
//   inputs     the mini-batches' input files: by path (direct), or streamed
//              item by item (remote).
//
// ChooseAgentAccess is the one place that decides, for every compute
// backend: agents on the server's own host (compute type `local`) read
// everything directly, as they always have; agents elsewhere fetch through
// the control plane, except inputs from a datastore declared
// `mounted_on_nodes: true` (the same folder at the same path on every node).
// A compute's `agent_access` (direct | remote) overrides the choice for
// both, e.g. to run a local job the way a remote node would.
//
// Pure; thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "common/status.h"

namespace lote::jobs {

enum class AccessMode { kDirect, kRemote };

struct AgentAccess {
  AccessMode artifacts = AccessMode::kDirect;
  AccessMode inputs = AccessMode::kDirect;
  bool operator==(const AgentAccess&) const = default;
};

// compute_type: the compute's type ("local", "slurm", …).
// inputs_mounted_on_nodes: the job's input is in a datastore declared
// mounted_on_nodes (false for URL inputs: they are downloaded into the
// server's home). override_mode: the compute's agent_access, if set.
AgentAccess ChooseAgentAccess(std::string_view compute_type, bool inputs_mounted_on_nodes,
                              std::optional<AccessMode> override_mode);

std::string_view AccessModeName(AccessMode mode);  // "direct" | "remote"
// "direct" | "remote"; InvalidArgument otherwise.
Result<AccessMode> ParseAccessMode(std::string_view name);

}  // namespace lote::jobs
