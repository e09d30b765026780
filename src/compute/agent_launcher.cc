#include "compute/agent_launcher.h"

#include <string.h>

#include <map>
#include <mutex>

namespace lote::compute {

using nlohmann::json;

std::string AgentExit::Describe() const {
  std::string d = detail.empty() ? "" : " (" + detail + ")";
  switch (kind) {
    case Kind::kExited: return "exited with code " + std::to_string(code) + d;
    case Kind::kKilled: {
      const char* name = sigabbrev_np(signal);
      return "killed by signal " + std::to_string(signal) + (name ? std::string(" (SIG") + name + ")" : "") + d;
    }
    case Kind::kLost: return "was lost" + d;
    case Kind::kNotStarted: return "could not be started" + (detail.empty() ? "" : ": " + detail);
  }
  return "was lost" + d;
}

Result<ComputeTarget> ParseComputeTarget(const json& doc) {
  ComputeTarget t;
  if (!doc.is_object()) return InvalidArgument("compute: expected an object");
  auto str = [&](const char* key, std::string& into) -> Status {
    if (!doc.contains(key) || doc[key].is_null()) return {};
    if (!doc[key].is_string()) return InvalidArgument(std::string("compute.") + key + ": expected a string");
    into = doc[key].get<std::string>();
    return {};
  };
  LOTE_TRY(str("name", t.name));
  LOTE_TRY(str("type", t.type));
  if (t.type != "local" && t.type != "slurm") return InvalidArgument("compute.type: unknown type '" + t.type + "'");
  LOTE_TRY(str("partition", t.slurm.partition));
  LOTE_TRY(str("account", t.slurm.account));
  LOTE_TRY(str("time_limit", t.slurm.time_limit));
  LOTE_TRY(str("agent_binary", t.slurm.agent_binary));
  if (doc.contains("sbatch_args") && !doc["sbatch_args"].is_null()) {
    if (!doc["sbatch_args"].is_array()) return InvalidArgument("compute.sbatch_args: expected a list of strings");
    for (const json& a : doc["sbatch_args"]) {
      if (!a.is_string()) return InvalidArgument("compute.sbatch_args: expected a list of strings");
      t.slurm.sbatch_args.push_back(a.get<std::string>());
    }
  }
  return t;
}

json ComputeTargetJson(const ComputeTarget& t) {
  json j = {{"name", t.name}, {"type", t.type}};
  if (t.type == "slurm") {
    j["partition"] = t.slurm.partition;
    j["account"] = t.slurm.account;
    j["time_limit"] = t.slurm.time_limit;
    j["sbatch_args"] = t.slurm.sbatch_args;
    j["agent_binary"] = t.slurm.agent_binary;
  }
  return j;
}

struct LauncherRegistry::Impl {
  std::mutex mu;
  std::map<std::string, std::unique_ptr<AgentLauncher>> launchers;
  struct Entry {
    AgentLauncher* launcher;
    AgentHandle inner;
  };
  std::map<AgentHandle, Entry> handles;
  AgentHandle next = 1;

  std::optional<Entry> Find(AgentHandle h) {
    std::lock_guard lock(mu);
    auto it = handles.find(h);
    if (it == handles.end()) return std::nullopt;
    return it->second;
  }
};

LauncherRegistry::LauncherRegistry() : impl_(std::make_unique<Impl>()) {}
LauncherRegistry::~LauncherRegistry() = default;

void LauncherRegistry::Add(std::string type, std::unique_ptr<AgentLauncher> launcher) {
  std::lock_guard lock(impl_->mu);
  impl_->launchers[std::move(type)] = std::move(launcher);
}

bool LauncherRegistry::Has(const std::string& type) const {
  std::lock_guard lock(impl_->mu);
  return impl_->launchers.contains(type);
}

Result<AgentHandle> LauncherRegistry::Launch(const AgentSpec& spec) {
  AgentLauncher* launcher = nullptr;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->launchers.find(spec.compute.type);
    if (it == impl_->launchers.end()) {
      return FailedPrecondition("compute '" + spec.compute.name + "' is of type '" + spec.compute.type +
                                "', which this server cannot launch");
    }
    launcher = it->second.get();
  }
  LOTE_ASSIGN_OR_RETURN(AgentHandle inner, launcher->Launch(spec));
  std::lock_guard lock(impl_->mu);
  AgentHandle h = impl_->next++;
  impl_->handles[h] = {launcher, inner};
  return h;
}

std::optional<AgentExit> LauncherRegistry::Poll(AgentHandle handle) {
  auto e = impl_->Find(handle);
  if (!e) return AgentExit{};
  auto exit = e->launcher->Poll(e->inner);
  if (exit) {
    std::lock_guard lock(impl_->mu);
    impl_->handles.erase(handle);
  }
  return exit;
}

void LauncherRegistry::Stop(AgentHandle handle) {
  auto e = impl_->Find(handle);
  if (!e) return;
  e->launcher->Stop(e->inner);
  // A stopped agent is not polled again (AgentLauncher::Stop).
  std::lock_guard lock(impl_->mu);
  impl_->handles.erase(handle);
}

AgentPlace LauncherRegistry::Where(AgentHandle handle) {
  auto e = impl_->Find(handle);
  if (!e) return {};
  return e->launcher->Where(e->inner);
}

}  // namespace lote::compute
