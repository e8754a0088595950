#ifndef OBGW_GATEWAY_LOGGING_LINE_LIMITER_H_
#define OBGW_GATEWAY_LOGGING_LINE_LIMITER_H_

#include <atomic>
#include <cstdint>

namespace obgw::gateway {

// A token bucket for the lines of one log kind: `per_second` lines per
// second on average, `burst` at once. Kept as GCRA (the generic cell rate
// algorithm): one atomic holds the time at which the bucket would be full
// again, so Take is a load and a compare-and-swap, lock-free, from any
// thread. Also counts the lines it refused since the last TakeSuppressed,
// for the "suppressed N lines" summary.
//
// Owns nothing but its atomics. Configure before any thread calls Take;
// then Take and TakeSuppressed are safe from any thread. Times are steady
// clock nanoseconds, passed in (tests use their own).
class LineLimiter {
 public:
  // `per_second` <= 0: every line passes. `burst` < 1 counts as 1.
  void Configure(double per_second, double burst);

  // Whether a line at `now_ns` may be written; a refused one is counted.
  bool Take(std::int64_t now_ns);

  struct Suppressed {
    std::uint64_t lines = 0;    // Refused since the last summary.
    std::int64_t since_ns = 0;  // When the first of them was refused.
  };
  // The lines refused since the last call, reset to zero, if there are some
  // and the first is at least `min_age_ns` old; else {0, 0} and nothing
  // changes.
  Suppressed TakeSuppressed(std::int64_t now_ns, std::int64_t min_age_ns);

 private:
  std::int64_t interval_ns_ = 0;   // Per line; 0 = unlimited.
  std::int64_t tolerance_ns_ = 0;  // (burst - 1) lines ahead of the rate.
  // GCRA's "theoretical arrival time": the bucket is full again then.
  std::atomic<std::int64_t> full_at_ns_{0};
  std::atomic<std::uint64_t> suppressed_{0};
  std::atomic<std::int64_t> first_suppressed_ns_{0};
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_LOGGING_LINE_LIMITER_H_
