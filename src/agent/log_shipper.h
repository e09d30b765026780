// Ships a remote agent's logs to the control plane (docs/agent-api.md,
// "Node logs"). The agent and its workers write their logs into a local
// folder in the layout of agent/agent_logs.h; the shipper uploads each
// file's new bytes every `period` from a thread of its own, and everything
// left once more when the agent ends (Finish), so the job's logs folder on
// the server reads as if the agent had written it there.
//
// Each file is uploaded at offsets of the server's copy: from the size that
// copy had when the shipper first saw the file (an agent restarted on the
// node adds to its predecessor's logs, as a local agent does), so a repeated
// upload is harmless. A file the server refuses (over its size limit) is
// given up, with one warning.
//
// Thread-safe: Start, Finish and ShipOnce may be called from any thread;
// no exception leaves the shipper's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "agent/agent_logs.h"
#include "agent/control_plane_client.h"
#include "common/status.h"

namespace lote::agent {

struct LogShipperOptions {
  std::filesystem::path local_root;  // the local log folder (NodeLogLayout::log_dir)
  ControlPlaneOptions client;        // state is ignored: shipping goes on while the agent stops
  std::chrono::milliseconds period{2000};
  int final_timeout_s = 3;  // how long Finish() waits for an unreachable control plane
  SysLog* log = nullptr;    // warnings; optional, not owned
};

class LogShipper {
 public:
  explicit LogShipper(LogShipperOptions options);
  ~LogShipper();  // stops the thread without a last pass

  void Start();
  // Stops the thread and ships everything left. An error says what could
  // not be shipped (the files stay in local_root).
  Status Finish();
  // One pass over the files; the first error is returned after the pass.
  Status ShipOnce(ControlPlaneClient& client);

 private:
  struct FileState {
    uint64_t base = 0;     // the server's size of the file when first seen
    uint64_t shipped = 0;  // local bytes uploaded
    bool based = false;
    bool gave_up = false;
  };
  Status ShipFile(ControlPlaneClient& client, const std::string& rel, FileState& state);
  void Loop();
  void StopThread();
  void Warn(const std::string& message);

  LogShipperOptions options_;
  std::mutex ship_mu_;  // one pass at a time; guards files_ and buf_
  std::map<std::string, FileState> files_;
  std::string buf_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace lote::agent
