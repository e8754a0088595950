#ifndef OBGW_GATEWAY_WS_TOKEN_BUCKET_H_
#define OBGW_GATEWAY_WS_TOKEN_BUCKET_H_

#include <cstddef>

#include "gateway/fanout/clock.h"

namespace obgw::gateway {

// A connection's message rate limit (docs/protocol.md 2.10): a bucket of
// `burst` tokens, full at the start and refilled at `per_second`; every
// client message takes one. A client that keeps sending once refused is hung
// up on after `burst` refusals in a row. Owns only its counters; the caller
// passes the time, so it runs on simulated time in tests. Thread-compatible:
// used by one WebSocketSession on its shard thread.
class TokenBucket {
 public:
  enum class Verdict {
    kAccepted,  // Process the message.
    kRefused,   // Ignore it and tell the client (error rate_limited).
    kHangUp,    // Refused `burst` times in a row: close the connection.
  };

  TokenBucket(std::size_t burst, double per_second, Clock::time_point now);

  // One message arrived at `now` (never earlier than the previous call's).
  Verdict Take(Clock::time_point now);

 private:
  const double burst_;
  const double per_second_;
  double tokens_;
  Clock::time_point refilled_at_;
  std::size_t refused_in_row_ = 0;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_WS_TOKEN_BUCKET_H_
