#include "gateway/ws/heartbeat.h"

namespace obgw::gateway {

Heartbeat::Heartbeat(Clock::duration ping_interval, Clock::duration idle_timeout,
                     Clock::time_point now)
    : ping_interval_(ping_interval),
      idle_timeout_(idle_timeout),
      last_heard_(now),
      last_ping_(now) {}

Heartbeat::Verdict Heartbeat::Check(Clock::time_point now) {
  if (idle_timeout_.count() > 0 && now - last_heard_ >= idle_timeout_) return Verdict::kIdle;
  if (ping_interval_.count() > 0 && now - last_heard_ >= ping_interval_ &&
      now - last_ping_ >= ping_interval_) {
    last_ping_ = now;
    return Verdict::kPing;
  }
  return Verdict::kNothing;
}

}  // namespace obgw::gateway
