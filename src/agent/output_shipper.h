// Remote access: the files a node's workers wrote under
// AZUREML_BI_OUTPUT_PATH (a scratch folder of the node's run) are the job's
// output, so they are shipped into the job's output folder on the control
// plane (PUT /api/v1/jobs/{job}/node-outputs/{path}, docs/agent-api.md) when
// the node's workers have ended.
//
// An upload never overwrites: a file another node shipped first under the
// same name (409) stays on this node, as does any file the control plane
// refuses or cannot be reached for; the result names them, and the caller
// keeps the run folder so nothing is lost. Links and other non-regular files
// are not outputs and are skipped (named in the result too).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "agent/agent_logs.h"
#include "agent/control_plane_client.h"

namespace lote::agent {

struct OutputShipResult {
  int shipped = 0;
  std::vector<std::string> kept;     // relative names left on the node, each with why
  std::vector<std::string> skipped;  // links and other non-regular files
};

OutputShipResult ShipOutputs(ControlPlaneClient& client, const std::filesystem::path& root, SysLog& log);

}  // namespace lote::agent
