#include "compute/agent_launcher.h"

#include <string.h>

namespace lote::compute {

std::string AgentExit::Describe() const {
  switch (kind) {
    case Kind::kExited: return "exited with code " + std::to_string(code);
    case Kind::kKilled: {
      const char* name = sigabbrev_np(signal);
      return "killed by signal " + std::to_string(signal) + (name ? std::string(" (SIG") + name + ")" : "");
    }
    case Kind::kLost: return "was lost";
  }
  return "was lost";
}

}  // namespace lote::compute
