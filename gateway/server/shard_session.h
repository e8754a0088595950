#ifndef OBGW_GATEWAY_SERVER_SHARD_SESSION_H_
#define OBGW_GATEWAY_SERVER_SHARD_SESSION_H_

#include <memory>

#include "gateway/fanout/clock.h"
#include "gateway/fanout/frame.h"

namespace obgw::gateway {

// What a Shard needs of a session it fans books out to and polices: the
// shard knows sessions only through this, so the WebSocket session (over a
// plain or a TLS stream) lives in the folder above and the shard does not
// depend on it. Every method runs on the session's shard thread.
class ShardSession {
 public:
  virtual ~ShardSession() = default;

  // Fan-out: queues a book; true when the caller must call Flush() after its
  // batch.
  virtual bool Queue(const FramePtr& frame) = 0;
  virtual void Flush() = 0;
  // The shard's periodic sweep (heartbeats, idle and slow consumers).
  // `now` is the shard's clock's time (simulated in tests).
  virtual void Tick(Clock::time_point now) = 0;
  // Shutdown: close 1001.
  virtual void CloseGoingAway() = 0;
  // Shared ownership for the length of a sweep or shutdown pass, in which a
  // session may end itself.
  virtual std::shared_ptr<ShardSession> Keep() = 0;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_SERVER_SHARD_SESSION_H_
