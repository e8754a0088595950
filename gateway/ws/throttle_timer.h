#ifndef OBGW_GATEWAY_WS_THROTTLE_TIMER_H_
#define OBGW_GATEWAY_WS_THROTTLE_TIMER_H_

#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/fanout/clock.h"
#include "gateway/fanout/thread_affinity.h"

namespace obgw::gateway {

// Wakes a throttled connection (?throttle_ms) when the next book its
// SymbolThrottle holds back is due: one Asio timer, created on first use and
// set to the earliest time asked for. Owns the timer; runs on the executor's
// thread, the shard's (`thread`), and asserts so in debug builds. The delay is
// measured on the injected clock.
class ThrottleTimer {
 public:
  ThrottleTimer(boost::asio::any_io_executor executor, const Clock& clock,
                const ThreadAffinity& thread)
      : executor_(std::move(executor)), clock_(clock), thread_(thread) {}

  // Runs `on_due` on the executor at `due`, unless a wake-up at or before
  // `due` is already set (that one runs instead, with its own callback).
  void WakeAt(Clock::time_point due, std::function<void()> on_due);
  // Drops the wake-up set, if any (the connection ended).
  void Cancel();

 private:
  boost::asio::any_io_executor executor_;
  const Clock& clock_;
  const ThreadAffinity& thread_;
  std::unique_ptr<boost::asio::steady_timer> timer_;
  Clock::time_point due_ = Clock::time_point::max();
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_WS_THROTTLE_TIMER_H_
