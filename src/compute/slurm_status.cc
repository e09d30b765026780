#include "compute/slurm_status.h"

#include <signal.h>

#include <algorithm>
#include <charconv>

namespace lote::compute {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

// "CANCELLED by 0" → "CANCELLED"; "RUNNING" stays.
std::string BaseState(std::string_view state) {
  state = Trim(state);
  return std::string(state.substr(0, state.find(' ')));
}

// "0:15" → code 0, signal 15.
void ParseExitCode(std::string_view v, SlurmJob& job) {
  auto parts = Split(Trim(v), ':');
  if (parts.size() != 2 || !AllDigits(parts[0]) || !AllDigits(parts[1])) return;
  int code = 0, sig = 0;
  std::from_chars(parts[0].data(), parts[0].data() + parts[0].size(), code);
  std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), sig);
  job.exit_code = code;
  job.exit_signal = sig;
}

std::string Nodes(std::string_view v) {
  v = Trim(v);
  return v == "(null)" || v == "None assigned" ? "" : std::string(v);
}

}  // namespace

std::optional<std::string> ParseSbatchId(std::string_view out) {
  out = Trim(out);
  // Only the last line: sbatch may warn before it.
  if (auto nl = out.rfind('\n'); nl != std::string_view::npos) out = Trim(out.substr(nl + 1));
  std::string_view id = out.substr(0, out.find(';'));
  if (!AllDigits(id) || id.size() > 18) return std::nullopt;
  return std::string(id);
}

std::vector<SlurmJob> ParseSqueue(std::string_view out) {
  std::vector<SlurmJob> jobs;
  for (std::string_view line : Split(out, '\n')) {
    line = Trim(line);
    if (line.empty()) continue;
    auto f = Split(line, '|');
    if (f.size() < 4 || !AllDigits(Trim(f[0]))) continue;
    SlurmJob j;
    j.id = std::string(Trim(f[0]));
    j.state = BaseState(f[1]);
    j.nodes = Nodes(f[2]);
    // The reason is the rest (it never holds '|', but be lenient).
    std::string_view rest = line.substr(static_cast<size_t>(f[3].data() - line.data()));
    j.reason = std::string(Trim(rest));
    jobs.push_back(std::move(j));
  }
  return jobs;
}

std::optional<SlurmJob> ParseScontrolJob(std::string_view out) {
  SlurmJob j;
  for (std::string_view field : Split(Trim(out), ' ')) {
    auto eq = field.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = field.substr(0, eq), value = field.substr(eq + 1);
    if (key == "JobId") {
      j.id = std::string(value);
    } else if (key == "JobState") {
      j.state = BaseState(value);
    } else if (key == "Reason") {
      j.reason = std::string(value);
    } else if (key == "ExitCode") {
      ParseExitCode(value, j);
    } else if (key == "NodeList") {
      j.nodes = Nodes(value);
    }
  }
  if (!AllDigits(j.id) || j.state.empty()) return std::nullopt;
  return j;
}

std::optional<SlurmJob> ParseSacct(std::string_view out) {
  for (std::string_view line : Split(out, '\n')) {
    line = Trim(line);
    if (line.empty()) continue;
    auto f = Split(line, '|');
    if (f.size() < 4 || !AllDigits(Trim(f[0]))) continue;
    SlurmJob j;
    j.id = std::string(Trim(f[0]));
    j.state = BaseState(f[1]);
    ParseExitCode(f[2], j);
    j.nodes = Nodes(f[3]);
    return j;
  }
  return std::nullopt;
}

bool SlurmJobAlive(std::string_view state) {
  static constexpr std::string_view kAlive[] = {
      "PENDING",  "RUNNING",     "SUSPENDED",    "COMPLETING",    "CONFIGURING", "REQUEUED",
      "RESIZING", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD", "SIGNALING",   "STAGE_OUT",
      "STOPPED"};
  return std::find(std::begin(kAlive), std::end(kAlive), state) != std::end(kAlive);
}

AgentExit SlurmJobExit(const SlurmJob& job, bool stop_requested) {
  AgentExit e;
  const std::string& s = job.state;
  const int code = job.exit_code.value_or(0), sig = job.exit_signal.value_or(0);
  if (s == "COMPLETED" || s == "FAILED") {
    if (sig != 0) {
      e.kind = AgentExit::Kind::kKilled;
      e.signal = sig;
    } else {
      e.kind = AgentExit::Kind::kExited;
      e.code = code;
    }
    if (s == "FAILED" && code == 0 && sig == 0) {
      // Slurm could not run it at all (e.g. its output file could not be opened).
      e.kind = AgentExit::Kind::kNotStarted;
      e.detail = "Slurm job " + job.id + " FAILED before the agent ran" +
                 (job.reason.empty() || job.reason == "None" ? "" : ": " + job.reason);
    }
    return e;
  }
  if (s == "OUT_OF_MEMORY") {
    e.kind = AgentExit::Kind::kKilled;
    e.signal = SIGKILL;
    e.detail = "out of memory, Slurm job " + job.id;
    return e;
  }
  e.kind = AgentExit::Kind::kLost;
  if (s == "CANCELLED") {
    e.detail = stop_requested ? "canceled by lote" : "Slurm job " + job.id + " was canceled outside lote";
  } else if (s == "TIMEOUT") {
    e.detail = "Slurm job " + job.id + " reached its time limit";
  } else if (s == "PREEMPTED") {
    e.detail = "Slurm job " + job.id + " was preempted";
  } else if (s == "NODE_FAIL" || s == "BOOT_FAIL") {
    e.detail = "the node of Slurm job " + job.id + " failed (" + s + ")";
  } else {
    e.detail = "Slurm job " + job.id + " ended in state " + (s.empty() ? "unknown" : s);
  }
  return e;
}

}  // namespace lote::compute
