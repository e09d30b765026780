// The header deadline: a connection whose request line and headers are not
// complete within `deadline` of the request's first byte is closed, whatever
// its pace. (libmicrohttpd's own timeout counts inactivity only, so a client
// that sends a byte a second would hold a connection forever.)
//
// The server tells the tracker where each connection stands; a thread
// sweeps a few times a second and shuts down the sockets past the deadline
// (the server's I/O thread then reads end-of-file and closes them). Between
// requests on a keep-alive connection the next request's first byte is read
// from the kernel (TCP_INFO), since the server hears of a request only once
// its request line is complete.
//
// Thread safety: every method may be called from any thread. Remove() must
// come before the socket is closed: the sweeper never touches a removed
// connection, so it never shuts down a reused descriptor.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_set>

namespace lote::http {

class HeaderDeadline {
 public:
  struct Entry;

  HeaderDeadline(std::chrono::seconds deadline, std::function<void(std::string_view)> log);
  ~HeaderDeadline();
  HeaderDeadline(const HeaderDeadline&) = delete;
  HeaderDeadline& operator=(const HeaderDeadline&) = delete;

  void Start();
  void Stop();  // joins the sweeper; idempotent

  Entry* Add(int fd);            // a new connection: its first request's deadline runs
  void Remove(Entry* entry);     // the connection is closing
  void RequestLine(Entry* entry);  // a request line is complete (the deadline runs, if idle)
  void HeadersDone(Entry* entry);  // headers complete: no deadline until the request ends
  void RequestDone(Entry* entry);  // answered: idle until the next request's first byte

 private:
  void Sweep();

  const std::chrono::seconds deadline_;
  const std::function<void(std::string_view)> log_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool running_ = false;
  std::unordered_set<Entry*> entries_;
  std::thread sweeper_;
};

}  // namespace lote::http
