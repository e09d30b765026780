// Work the scheduler hands off its thread (planning a job's input, assembling
// its output), run on a small pool of threads.
//
// A Work<T> is shared by the scheduler, which polls done() on its ticks, and
// the pool thread, which fills in the result. The scheduler may ask it to stop
// (Cancel()); the work checks canceled() between steps. An exception thrown
// by the work never leaves its thread: it becomes the work's error.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "common/thread_pool.h"

namespace lote::jobs {

template <class T>
class Work {
 public:
  bool done() const { return done_.load(std::memory_order_acquire); }
  void Cancel() { cancel_.store(true, std::memory_order_relaxed); }
  bool canceled() const { return cancel_.load(std::memory_order_relaxed); }
  // Only once done().
  const Result<T>& result() const { return *result_; }
  void Finish(Result<T> r) {
    result_.emplace(std::move(r));
    done_.store(true, std::memory_order_release);
  }

 private:
  std::atomic<bool> done_{false};
  std::atomic<bool> cancel_{false};
  std::optional<Result<T>> result_;
};

class WorkPool {
 public:
  // name: for the log line of an escaped exception.
  WorkPool(int threads, std::string name)
      : name_(name), pool_(static_cast<size_t>(threads), std::move(name), ThreadPool::OnClose::kDropQueued) {}

  // Runs fn on a pool thread and stores what it returns in work; then calls
  // on_done (on that thread). An exception from fn becomes an Internal error.
  // Work not started when the pool is destroyed is dropped (never finished).
  template <class T>
  void Run(std::shared_ptr<Work<T>> work, std::function<Result<T>(Work<T>&)> fn,
           std::function<void()> on_done) {
    pool_.Post([work, fn = std::move(fn), on_done = std::move(on_done), name = name_] {
      Result<T> r = Internal("unknown");
      try {
        r = fn(*work);
      } catch (const std::exception& e) {
        r = Internal(name + ": unexpected exception: " + e.what());
      } catch (...) {
        r = Internal(name + ": unexpected exception");
      }
      work->Finish(std::move(r));
      if (on_done) on_done();
    });
  }

 private:
  std::string name_;
  ThreadPool pool_;
};

}  // namespace lote::jobs
