#include "agent/log_shipper.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/unique_fd.h"

namespace lote::agent {

namespace fs = std::filesystem;

namespace {

// Under the control plane's limit of one upload (jobs/node_logs.h).
constexpr size_t kChunkBytes = size_t{512} << 10;
// How long one periodic pass waits for an unreachable control plane (the
// agent's own calls decide when it gives up).
constexpr int kPassTimeoutS = 5;

ControlPlaneOptions Unattached(ControlPlaneOptions o, int timeout_s) {
  o.state = nullptr;
  o.unreachable_timeout_s = timeout_s;
  return o;
}

}  // namespace

LogShipper::LogShipper(LogShipperOptions options) : options_(std::move(options)) {}

LogShipper::~LogShipper() {
  StopThread();
}

void LogShipper::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void LogShipper::StopThread() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LogShipper::Warn(const std::string& message) {
  if (options_.log != nullptr) options_.log->Warning(message);
}

void LogShipper::Loop() {
  try {
    // A pass may wait on an unreachable control plane; the next one tries again.
    ControlPlaneClient client(Unattached(options_.client, kPassTimeoutS));
    for (;;) {
      {
        std::unique_lock lock(mu_);
        if (cv_.wait_for(lock, options_.period, [this] { return stop_; })) return;
      }
      if (auto st = ShipOnce(client); !st) Warn("cannot ship logs yet: " + st.error().message());
    }
  } catch (const std::exception& e) {
    Warn(std::string("the log shipper stopped: ") + e.what());
  }
}

Status LogShipper::Finish() {
  StopThread();
  try {
    ControlPlaneClient client(Unattached(options_.client, options_.final_timeout_s));
    return ShipOnce(client);
  } catch (const std::exception& e) {
    return Internal(std::string("shipping the logs: ") + e.what());
  }
}

Status LogShipper::ShipOnce(ControlPlaneClient& client) {
  std::lock_guard lock(ship_mu_);
  std::vector<std::string> rels;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(options_.local_root, ec);
       !ec && it != fs::end(it); it.increment(ec)) {
    if (it->is_regular_file(ec))
      rels.push_back(fs::relative(it->path(), options_.local_root, ec).generic_string());
  }
  if (ec)
    return IoError("cannot list the local logs in '" + options_.local_root.string() +
                   "': " + ec.message());
  Status first;
  for (const std::string& rel : rels) {
    FileState& state = files_[rel];
    if (state.gave_up) continue;
    if (auto st = ShipFile(client, rel, state); !st && first) first = st.error().WithContext(rel);
  }
  return first;
}

Status LogShipper::ShipFile(ControlPlaneClient& client, const std::string& rel, FileState& state) {
  UniqueFd fd(::open((options_.local_root / rel).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return IoError(std::string("cannot open it: ") + std::strerror(errno));
  // A file the control plane refuses (a path it does not take, past its
  // size limit, a gap) is not retried: one warning, and the others go on.
  auto refused = [&](const Error& e) -> Status {
    const ErrorCode code = e.code();
    if (code != ErrorCode::kPayloadTooLarge && code != ErrorCode::kInvalidArgument &&
        code != ErrorCode::kFailedPrecondition) {
      return e;
    }
    state.gave_up = true;
    Warn("log " + rel + " is no longer shipped: " + e.message());
    return {};
  };
  if (!state.based) {
    auto size = client.NodeLogSize(rel);
    if (!size) return refused(size.error());
    state.base = *size;
    state.based = true;
  }
  if (buf_.empty()) buf_.resize(kChunkBytes);
  for (;;) {
    ssize_t n = ::pread(fd.get(), buf_.data(), buf_.size(), static_cast<off_t>(state.shipped));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError(std::string("cannot read it: ") + std::strerror(errno));
    if (n == 0) return {};
    auto size = client.WriteNodeLog(rel, state.base + state.shipped,
                                    std::string_view(buf_.data(), static_cast<size_t>(n)));
    if (!size) return refused(size.error());
    state.shipped += static_cast<uint64_t>(n);
  }
}

}  // namespace lote::agent
