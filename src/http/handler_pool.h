// A fixed set of threads that run the server's handlers, so that a slow
// handler (a remote host checked for a few seconds, a slow disk) holds one of
// them and never the I/O thread that serves every connection.
//
// Post() is thread-safe. Tasks must not throw (the server wraps each one in
// its exception barrier). The destructor runs every task already posted,
// then joins the threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lote::http {

class HandlerPool {
 public:
  explicit HandlerPool(size_t threads);
  ~HandlerPool();
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  void Post(std::function<void()> task);

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace lote::http
