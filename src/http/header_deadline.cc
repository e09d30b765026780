#include "http/header_deadline.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <string>

namespace lote::http {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kSweepPeriod = std::chrono::milliseconds(250);

}  // namespace

struct HeaderDeadline::Entry {
  enum class Phase {
    kHeaders,  // reading a request line and headers: the deadline runs
    kActive,   // headers done: body, handler or answer (the idle timeout applies)
    kIdle,     // between requests on a keep-alive connection
    kExpired,  // shut down by the sweeper, waiting for the server to notice
  };
  int fd = -1;
  Phase phase = Phase::kHeaders;
  Clock::time_point since;
};

HeaderDeadline::HeaderDeadline(std::chrono::seconds deadline, std::function<void(std::string_view)> log)
    : deadline_(deadline), log_(std::move(log)) {}

HeaderDeadline::~HeaderDeadline() {
  Stop();
  for (Entry* e : entries_) delete e;
}

void HeaderDeadline::Start() {
  std::lock_guard lock(mu_);
  if (running_) return;
  running_ = true;
  sweeper_ = std::thread([this] { Sweep(); });
}

void HeaderDeadline::Stop() {
  {
    std::lock_guard lock(mu_);
    running_ = false;
  }
  cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
}

HeaderDeadline::Entry* HeaderDeadline::Add(int fd) {
  auto* e = new Entry{.fd = fd, .phase = Entry::Phase::kHeaders, .since = Clock::now()};
  std::lock_guard lock(mu_);
  entries_.insert(e);
  return e;
}

void HeaderDeadline::Remove(Entry* e) {
  {
    std::lock_guard lock(mu_);
    entries_.erase(e);
  }
  delete e;
}

void HeaderDeadline::RequestLine(Entry* e) {
  std::lock_guard lock(mu_);
  if (e->phase == Entry::Phase::kIdle) {  // else the sweeper saw its first byte already
    e->phase = Entry::Phase::kHeaders;
    e->since = Clock::now();
  }
}

void HeaderDeadline::HeadersDone(Entry* e) {
  std::lock_guard lock(mu_);
  if (e->phase != Entry::Phase::kExpired) e->phase = Entry::Phase::kActive;
}

void HeaderDeadline::RequestDone(Entry* e) {
  std::lock_guard lock(mu_);
  if (e->phase != Entry::Phase::kExpired) {
    e->phase = Entry::Phase::kIdle;
    e->since = Clock::now();
  }
}

void HeaderDeadline::Sweep() {
  std::unique_lock lock(mu_);
  while (running_) {
    cv_.wait_for(lock, kSweepPeriod);
    if (!running_) break;
    const auto now = Clock::now();
    size_t expired = 0;
    for (Entry* e : entries_) {
      if (e->phase == Entry::Phase::kIdle) {
        // Has the next request begun? The kernel knows when data last came.
        tcp_info ti{};
        socklen_t len = sizeof(ti);
        if (::getsockopt(e->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0) {
          auto last_data = std::chrono::milliseconds(ti.tcpi_last_data_recv);
          auto idle_for = std::chrono::duration_cast<std::chrono::milliseconds>(now - e->since);
          if (last_data + std::chrono::milliseconds(20) < idle_for) {  // 20 ms: jiffies
            e->phase = Entry::Phase::kHeaders;
            e->since = now - last_data;
          }
        }
      }
      if (e->phase == Entry::Phase::kHeaders && now - e->since > deadline_) {
        ::shutdown(e->fd, SHUT_RDWR);
        e->phase = Entry::Phase::kExpired;
        ++expired;
      }
    }
    if (expired > 0) {
      lock.unlock();
      try {
        log_("http: closed " + std::to_string(expired) +
             " connection(s) that did not complete a request's headers within " +
             std::to_string(deadline_.count()) + " s");
      } catch (...) {  // a log line is not worth the sweeper
      }
      lock.lock();
    }
  }
}

}  // namespace lote::http
