#ifndef OBGW_GATEWAY_WS_HEARTBEAT_H_
#define OBGW_GATEWAY_WS_HEARTBEAT_H_

#include "gateway/fanout/clock.h"

namespace obgw::gateway {

// When a connection was last heard from, and what its silence calls for
// (docs/protocol.md 2.9): a ping every `ping_interval` while it stays silent,
// the idle close after `idle_timeout`; a zero duration disables either. Owns
// only its two time stamps; the caller passes the time (the shard's sweep
// time), so it runs on simulated time in tests. Thread-compatible: used by
// one WebSocketSession on its shard thread.
class Heartbeat {
 public:
  enum class Verdict {
    kNothing,  // Heard recently enough.
    kPing,     // Send a ping now (counted as sent).
    kIdle,     // Silent for the idle timeout: close the connection.
  };

  Heartbeat(Clock::duration ping_interval, Clock::duration idle_timeout, Clock::time_point now);

  // Anything arrived from the peer (a message or a control frame).
  void Heard(Clock::time_point now) { last_heard_ = now; }
  // The periodic check; a kPing verdict counts as the ping sent at `now`.
  Verdict Check(Clock::time_point now);

 private:
  const Clock::duration ping_interval_;
  const Clock::duration idle_timeout_;
  Clock::time_point last_heard_;
  Clock::time_point last_ping_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_WS_HEARTBEAT_H_
