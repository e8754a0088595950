#include "gateway/ws/throttle_timer.h"

#include <cassert>

#include <boost/system/error_code.hpp>

namespace obgw::gateway {

void ThrottleTimer::WakeAt(Clock::time_point due, std::function<void()> on_due) {
  assert(thread_.InThisThread());
  if (due >= due_) return;  // An earlier wake-up is set.
  // Connections without a throttle, and throttled ones until their first
  // held-back book, cost no timer.
  if (!timer_) timer_ = std::make_unique<boost::asio::steady_timer>(executor_);
  due_ = due;
  timer_->expires_after(due - clock_.Now());
  timer_->async_wait([this, on_due = std::move(on_due)](boost::system::error_code ec) {
    if (ec) return;  // Cancelled, or replaced by an earlier wake-up.
    assert(thread_.InThisThread());
    due_ = Clock::time_point::max();
    on_due();
  });
}

void ThrottleTimer::Cancel() {
  assert(thread_.InThisThread());
  if (timer_) timer_->cancel();
  due_ = Clock::time_point::max();
}

}  // namespace obgw::gateway
