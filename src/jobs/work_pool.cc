#include "jobs/work_pool.h"

#include <cstdio>

namespace lote::jobs {

WorkPool::WorkPool(int threads, std::string name) : name_(std::move(name)) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkPool::~WorkPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkPool::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void WorkPool::Loop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    // The tasks Run() posts catch their own exceptions; this barrier is for
    // anything else (an on_done callback), so that no exception ends the
    // process from a pool thread.
    try {
      task();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "lote: %s: unexpected exception: %s\n", name_.c_str(), e.what());
    } catch (...) {
      std::fprintf(stderr, "lote: %s: unexpected exception\n", name_.c_str());
    }
  }
}

}  // namespace lote::jobs
