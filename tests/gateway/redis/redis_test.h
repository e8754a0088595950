#ifndef OBGW_TESTS_GATEWAY_REDIS_REDIS_TEST_H_
#define OBGW_TESTS_GATEWAY_REDIS_REDIS_TEST_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "redis_server.h"

namespace obgw::testing {

// A test with its own redis-server (on a free port) whose test thread is the
// Redis thread: it runs the io_context in small slices, so the code under
// test runs where it asserts it runs (inside run()), and the test waits on
// conditions, never on sleeps.
class RedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = RedisServer::Start(&error);
    ASSERT_TRUE(server_) << error;
  }

  // Runs the io_context until `done()` or `timeout`; whether it was done.
  bool RunUntil(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      RunFor(std::chrono::milliseconds(2));
    }
    return true;
  }

  // Runs the io_context for `duration` (to see that nothing more happens).
  void RunFor(std::chrono::milliseconds duration) {
    io_.run_for(duration);
    if (io_.stopped()) io_.restart();
  }

  // Runs `fn` inside the io_context (on this thread) and waits for it.
  void OnIo(const std::function<void()>& fn) {
    bool done = false;
    boost::asio::post(io_, [&] {
      fn();
      done = true;
    });
    ASSERT_TRUE(RunUntil([&] { return done; }));
  }

  boost::asio::io_context io_;
  std::unique_ptr<RedisServer> server_;
};

}  // namespace obgw::testing

#endif  // OBGW_TESTS_GATEWAY_REDIS_REDIS_TEST_H_
