#include "common/thread_pool.h"

#include <cstdio>
#include <exception>

namespace lote {

ThreadPool::ThreadPool(size_t threads, std::string name, OnClose on_close)
    : name_(std::move(name)), on_close_(on_close) {
  if (threads == 0) threads = 1;
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (on_close_ == OnClose::kDropQueued) tasks_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void ThreadPool::Loop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, and nothing left to run
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    try {
      task();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "lote: %s: unexpected exception: %s\n", name_.c_str(), e.what());
    } catch (...) {
      std::fprintf(stderr, "lote: %s: unexpected exception\n", name_.c_str());
    }
  }
}

}  // namespace lote
