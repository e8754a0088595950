#ifndef OBGW_GATEWAY_FANOUT_FRAME_DEFLATER_H_
#define OBGW_GATEWAY_FANOUT_FRAME_DEFLATER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <zlib.h>

#include "gateway/fanout/frame.h"
#include "gateway/metrics/gateway_stats.h"

namespace obgw::gateway {

// Compresses frames for connections that negotiated permessage-deflate
// (RFC 7692) with server_no_context_takeover: every message is compressed on
// its own, so one compressed copy of a frame is valid on every such
// connection, and it is made once per frame (Frame::deflated), not once per
// subscriber. One per I/O shard, used only on its thread (the zlib stream is
// not shareable); its memory is one deflate state (~256 KiB at level 1..9),
// however many connections use it.
class FrameDeflater {
 public:
  // `min_bytes`: smaller payloads are sent as they are (compression would
  // save little and cost a zlib call).
  FrameDeflater(int level, std::size_t min_bytes, ShardStats& stats);
  ~FrameDeflater();
  FrameDeflater(const FrameDeflater&) = delete;
  FrameDeflater& operator=(const FrameDeflater&) = delete;

  // The bytes to send `frame` on a deflate connection: its compressed form
  // (RSV1 set), made now if no shard made it before, or its plain wire when
  // it is a control frame, below min_bytes, or does not shrink.
  std::string_view Wire(const Frame& frame);

 private:
  // The compressed frame, or an empty string when it would not be smaller.
  std::unique_ptr<const std::string> Compress(std::string_view payload);

  const std::size_t min_bytes_;
  ShardStats& stats_;
  z_stream zstream_{};
  bool ready_ = false;
  std::string buffer_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_FANOUT_FRAME_DEFLATER_H_
