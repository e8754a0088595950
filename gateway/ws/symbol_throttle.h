#ifndef OBGW_GATEWAY_WS_SYMBOL_THROTTLE_H_
#define OBGW_GATEWAY_WS_SYMBOL_THROTTLE_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "gateway/fanout/frame.h"

namespace obgw::gateway {

// A connection's minimum interval between two books of one symbol (the
// client's ?throttle_ms, like Binance's @100ms streams). Within the interval
// the latest book waits, replacing any older one waiting: a client gets the
// newest state at most once per interval per symbol. Owned by one
// WebSocketSession, on its shard thread; the session runs the timer.
class SymbolThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  explicit SymbolThrottle(Clock::duration interval) : interval_(interval) {}

  struct Verdict {
    bool send_now = true;   // Else it waits...
    bool replaced = false;  // ...in the place of an older waiting book...
    Clock::time_point due;  // ...until then.
  };
  // Whether `frame` goes out now (the symbol's interval starts) or waits.
  Verdict Pass(const FramePtr& frame, Clock::time_point now);
  // Moves every waiting book whose interval is over to `out`, in no
  // particular order across symbols; returns when the next one is due.
  std::optional<Clock::time_point> TakeDue(Clock::time_point now, std::vector<FramePtr>& out);
  // The symbol was unsubscribed: its waiting book is dropped.
  void Forget(const std::string& symbol) { slots_.erase(symbol); }

 private:
  struct Slot {
    Clock::time_point next_allowed;
    FramePtr waiting;
  };

  const Clock::duration interval_;
  absl::flat_hash_map<std::string, Slot> slots_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_WS_SYMBOL_THROTTLE_H_
