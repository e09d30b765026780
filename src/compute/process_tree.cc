#include "compute/process_tree.h"

#include <dirent.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>

namespace lote::compute {

namespace {

struct Stat {
  ProcessId id;
  pid_t ppid = 0;
};

// Fields after the command name, which is in parentheses and may itself hold
// spaces and parentheses: the last ')' ends it.
std::optional<Stat> ReadStat(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  FILE* f = std::fopen(path, "re");
  if (!f) return std::nullopt;
  char buf[1024];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* close = std::strrchr(buf, ')');
  if (!close) return std::nullopt;
  // After ") ": state(3) ppid(4) pgrp(5) session(6) tty(7) tpgid(8) flags(9)
  // minflt(10) cminflt(11) majflt(12) cmajflt(13) utime(14) stime(15)
  // cutime(16) cstime(17) priority(18) nice(19) threads(20) itreal(21) start(22)
  Stat s;
  s.id.pid = pid;
  const char* p = close + 1;
  for (int field = 3; field <= 22 && *p; ++field) {
    while (*p == ' ') ++p;
    char* end = nullptr;
    if (field == 4) s.ppid = static_cast<pid_t>(std::strtol(p, &end, 10));
    if (field == 5) s.id.pgid = static_cast<pid_t>(std::strtol(p, &end, 10));
    if (field == 22) s.id.start_ticks = std::strtoull(p, &end, 10);
    while (*p && *p != ' ') ++p;
  }
  return s;
}

}  // namespace

std::vector<ProcessId> Descendants(pid_t root) {
  std::multimap<pid_t, ProcessId> children;
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      char* end = nullptr;
      long pid = std::strtol(e->d_name, &end, 10);
      if (*end != '\0' || pid <= 0) continue;
      if (auto s = ReadStat(static_cast<pid_t>(pid))) children.emplace(s->ppid, s->id);
    }
    ::closedir(d);
  }
  std::vector<ProcessId> out;
  std::vector<pid_t> frontier = {root};
  while (!frontier.empty()) {
    pid_t parent = frontier.back();
    frontier.pop_back();
    auto [lo, hi] = children.equal_range(parent);
    for (auto it = lo; it != hi; ++it) {
      out.push_back(it->second);
      frontier.push_back(it->second.pid);
    }
  }
  return out;
}

void KillIfSame(const std::vector<ProcessId>& processes) {
  for (const ProcessId& p : processes) {
    auto now = ReadStat(p.pid);
    if (!now || now->id.start_ticks != p.start_ticks) continue;  // gone, or another process now
    if (now->id.pgid == p.pid) ::kill(-p.pid, SIGKILL);
    ::kill(p.pid, SIGKILL);
  }
}

}  // namespace lote::compute
