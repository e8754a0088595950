#ifndef OBGW_GATEWAY_FANOUT_CLOCK_H_
#define OBGW_GATEWAY_FANOUT_CLOCK_H_

#include <atomic>
#include <chrono>

namespace obgw::gateway {

// Where the gateway's timing code reads the time: the shard's sweep, a
// connection's send queue, rate limit, heartbeats and throttle. Injected so
// that unit tests run those on simulated time (ManualClock) instead of
// waiting; the gateway itself uses Clock::Steady(). Times are those of
// std::chrono::steady_clock, so they mix with Asio's steady timers.
class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  virtual ~Clock() = default;
  // Safe to call from any thread.
  virtual time_point Now() const = 0;

  // std::chrono::steady_clock, shared by everyone (stateless).
  static const Clock& Steady();
};

// A clock that moves only when told to, for tests. Starts at the real time
// of its creation (so its readings look like steady_clock's). Safe to read
// from any thread while the test thread moves it.
class ManualClock final : public Clock {
 public:
  ManualClock() : now_(std::chrono::steady_clock::now()) {}

  time_point Now() const override { return now_.load(std::memory_order_acquire); }
  void Advance(duration by) { now_.store(Now() + by, std::memory_order_release); }

 private:
  std::atomic<time_point> now_;
};

inline const Clock& Clock::Steady() {
  class SteadyClock final : public Clock {
   public:
    time_point Now() const override { return std::chrono::steady_clock::now(); }
  };
  static const SteadyClock clock;
  return clock;
}

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_FANOUT_CLOCK_H_
