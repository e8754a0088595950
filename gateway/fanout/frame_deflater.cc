#include "gateway/fanout/frame_deflater.h"

#include <spdlog/spdlog.h>

namespace obgw::gateway {

FrameDeflater::FrameDeflater(int level, std::size_t min_bytes, ShardStats& stats)
    : min_bytes_(min_bytes), stats_(stats) {
  // Raw deflate (negative window bits: no zlib header), the full 32 KiB
  // window the gateway negotiates (server_max_window_bits 15).
  ready_ = deflateInit2(&zstream_, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  if (!ready_) spdlog::error("permessage-deflate: deflateInit2 failed; frames go uncompressed");
}

FrameDeflater::~FrameDeflater() {
  if (ready_) deflateEnd(&zstream_);
}

std::string_view FrameDeflater::Wire(const Frame& frame) {
  if (!ready_ || !frame.compressible() || frame.payload().size() < min_bytes_) {
    return frame.wire();
  }
  const std::string* deflated = frame.deflated();
  if (deflated == nullptr) deflated = frame.SetDeflated(Compress(frame.payload()));
  return deflated->empty() ? frame.wire() : std::string_view(*deflated);
}

std::unique_ptr<const std::string> FrameDeflater::Compress(std::string_view payload) {
  // No context takeover: every message starts from a fresh dictionary.
  deflateReset(&zstream_);
  buffer_.resize(deflateBound(&zstream_, payload.size()) + 16);
  zstream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
  zstream_.avail_in = static_cast<uInt>(payload.size());
  zstream_.next_out = reinterpret_cast<Bytef*>(buffer_.data());
  zstream_.avail_out = static_cast<uInt>(buffer_.size());
  int result = deflate(&zstream_, Z_SYNC_FLUSH);
  std::size_t size = buffer_.size() - zstream_.avail_out;
  stats_.frames_deflated.fetch_add(1, std::memory_order_relaxed);
  // RFC 7692 7.2.1: the flush's empty block ends in 00 00 FF FF, which the
  // sender removes (the receiver appends it back).
  if (result != Z_OK || zstream_.avail_in != 0 || size < 4 ||
      buffer_.compare(size - 4, 4, std::string_view("\x00\x00\xff\xff", 4)) != 0) {
    spdlog::warn("permessage-deflate: deflate failed ({}); frame sent uncompressed", result);
    return std::make_unique<const std::string>();
  }
  size -= 4;
  if (size >= payload.size()) return std::make_unique<const std::string>();
  stats_.deflate_bytes_in.fetch_add(payload.size(), std::memory_order_relaxed);
  stats_.deflate_bytes_out.fetch_add(size, std::memory_order_relaxed);
  return Frame::EncodeHeader(0xC1, std::string_view(buffer_.data(), size));
}

}  // namespace obgw::gateway
