#include "agent/agent_state.h"

#include <signal.h>

#include "agent/control_plane_client.h"

namespace lote::agent {

bool AgentState::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

int AgentState::exit_code() const {
  std::lock_guard lock(mu_);
  return exit_code_;
}

std::string AgentState::stop_reason() const {
  std::lock_guard lock(mu_);
  return reason_;
}

void AgentState::Stop(int exit_code, const std::string& reason) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    exit_code_ = exit_code;
    reason_ = reason;
    // Under the lock: an owner untracks before reaping, so every id here
    // still names its worker's group.
    for (pid_t pgid : groups_) kill(-pgid, SIGKILL);
    for (ControlPlaneClient* c : clients_) c->Abort();
  }
  cv_.notify_all();
}

bool AgentState::SleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [&] { return stopping_; });
  return stopping_;
}

bool AgentState::TrackWorker(pid_t pgid) {
  std::lock_guard lock(mu_);
  groups_.insert(pgid);
  return !stopping_;
}

void AgentState::UntrackWorker(pid_t pgid) {
  std::lock_guard lock(mu_);
  groups_.erase(pgid);
}

void AgentState::TrackClient(ControlPlaneClient* client) {
  std::lock_guard lock(mu_);
  clients_.insert(client);
}

void AgentState::UntrackClient(ControlPlaneClient* client) {
  std::lock_guard lock(mu_);
  clients_.erase(client);
}

}  // namespace lote::agent
