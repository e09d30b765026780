// A fixed set of threads that run posted tasks in order of posting, for the
// HTTP server's handlers and the job engine's slow work.
//
// Post() is thread-safe. A task that throws is logged (with the pool's
// name) and the thread goes on: no exception ends the process from a pool
// thread. On destruction the pool either runs every task already posted
// (kRunQueued: a request that was accepted gets its answer) or drops those
// not started (kDropQueued: work a restart redoes anyway), then joins.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace lote {

class ThreadPool {
 public:
  enum class OnClose { kRunQueued, kDropQueued };

  ThreadPool(size_t threads, std::string name, OnClose on_close);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Post(std::function<void()> task);

 private:
  void Loop();

  std::string name_;
  OnClose on_close_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace lote
