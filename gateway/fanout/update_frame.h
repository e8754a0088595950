#ifndef OBGW_GATEWAY_FANOUT_UPDATE_FRAME_H_
#define OBGW_GATEWAY_FANOUT_UPDATE_FRAME_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/fanout/frame.h"

namespace obgw::gateway {

// Renders the one frame every subscriber of `symbol` receives:
//   {"type":"orderbook_update","symbol":S,"seq":N,"timestamp":T<extra>,"data":DATA}
// DATA is inserted verbatim (it was validated as a JSON object by the
// producer); `symbol` is a validated symbol, so it needs no escaping; T is
// the gateway's UTC time in ISO 8601 with microseconds, as the legacy
// middleware sent it. `extra_fields` (e.g. `,"snapshot":true`) is inserted
// verbatim before "data". `received_ns` is stamped on the frame (see
// Frame::received_ns).
FramePtr RenderUpdateFrame(std::string_view symbol, std::uint64_t seq, std::string_view timestamp,
                           std::string_view data, std::string_view extra_fields = {},
                           std::int64_t received_ns = 0);

// Formats `time` as "2024-01-01T12:00:00.123456+00:00" (Python's isoformat()).
// Caches the per-second part: the hub calls it once per update.
class IsoClock {
 public:
  std::string_view Format(std::chrono::system_clock::time_point time);

 private:
  std::int64_t cached_second_ = -1;
  char text_[40] = {};
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_FANOUT_UPDATE_FRAME_H_
