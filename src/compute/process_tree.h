// The processes below a process, read from /proc, so that a stopped or
// orphaned worker of an agent can be found and killed: workers run in
// process groups of their own, out of reach of a signal to the agent's group.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace lote::compute {

// A process as seen at one moment: its start time tells it apart from a
// later process that reuses the id.
struct ProcessId {
  pid_t pid = 0;
  uint64_t start_ticks = 0;  // field 22 of /proc/<pid>/stat
  pid_t pgid = 0;
  bool operator==(const ProcessId&) const = default;
};

// Every descendant of `root` (children, their children, …), not root itself.
std::vector<ProcessId> Descendants(pid_t root);

// SIGKILLs each process that is still the one recorded (same start time), and
// the process group it leads, if any.
void KillIfSame(const std::vector<ProcessId>& processes);

}  // namespace lote::compute
