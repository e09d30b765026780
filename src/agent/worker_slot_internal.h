// What worker_slot.cc and worker_slot_start.cc share: outcome codes and
// small readers of the worker's JSON messages. Internal to src/agent.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace lote::agent::slot_internal {

inline constexpr char kInitFailed[] = "INIT_FAILED";

inline int ToMs(std::chrono::milliseconds d) { return static_cast<int>(d.count()); }

// msg[key] when it is a string, else "".
inline std::string StringField(const nlohmann::json& msg, const char* key) {
  auto it = msg.find(key);
  return it != msg.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace lote::agent::slot_internal
