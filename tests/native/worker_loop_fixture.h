// A test fixture that runs the native worker's loop (RunNativeWorker) on a
// thread, talking to it over two pipes as `lote agent` does.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>

#include "native/native_worker.h"
#include "runtime/frame.h"

namespace lote::testing {

class WorkerLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int to_worker[2], from_worker[2];
    ASSERT_EQ(pipe2(to_worker, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(from_worker, O_CLOEXEC), 0);
    agent_out_ = to_worker[1];
    agent_in_ = from_worker[0];
    worker_in_ = to_worker[0];
    worker_out_ = from_worker[1];
    exit_ = std::async(std::launch::async, [this] {
      int code = native::RunNativeWorker({.in_fd = worker_in_, .out_fd = worker_out_, .log = &log_});
      ::close(worker_out_);  // as the process's exit would
      return code;
    });
  }
  void TearDown() override {
    if (agent_out_ >= 0) ::close(agent_out_);
    if (exit_.valid()) exit_.wait();
    ::close(agent_in_);
    ::close(worker_in_);
  }
  void Send(const nlohmann::json& msg) { ASSERT_TRUE(runtime::WriteFrame(agent_out_, msg)); }
  runtime::Frame Receive() {
    auto f = runtime::ReadFrame(agent_in_, 30000);
    EXPECT_TRUE(f) << f.error().message();
    return f ? *f : runtime::Frame{};
  }
  // The loop's return value, or -1 when it has not ended within 30 s.
  int ExitCode() {
    if (exit_.wait_for(std::chrono::seconds(30)) != std::future_status::ready) return -1;
    return exit_.get();
  }

  int agent_out_ = -1, agent_in_ = -1, worker_in_ = -1, worker_out_ = -1;
  std::ostringstream log_;
  std::future<int> exit_;
};

}  // namespace lote::testing
