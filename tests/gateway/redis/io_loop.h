#ifndef OBGW_TESTS_GATEWAY_REDIS_IO_LOOP_H_
#define OBGW_TESTS_GATEWAY_REDIS_IO_LOOP_H_

#include <chrono>
#include <functional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace obgw::testing {

// The Redis thread of a unit test: the test thread runs the io_context in
// small slices, so the code under test runs where it asserts it runs (inside
// run()) and the test waits on conditions, never on sleeps.
class IoLoop {
 public:
  boost::asio::io_context& io() { return io_; }

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
  bool OnIo(const std::function<void()>& fn) {
    bool done = false;
    boost::asio::post(io_, [&] {
      fn();
      done = true;
    });
    return RunUntil([&] { return done; });
  }

 private:
  boost::asio::io_context io_;
};

}  // namespace obgw::testing

#endif  // OBGW_TESTS_GATEWAY_REDIS_IO_LOOP_H_
