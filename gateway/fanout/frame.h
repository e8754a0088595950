#ifndef OBGW_GATEWAY_FANOUT_FRAME_H_
#define OBGW_GATEWAY_FANOUT_FRAME_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace obgw::gateway {

// A complete server-to-client WebSocket text frame (header + JSON payload),
// encoded once and shared, immutable, by every session that sends it: server
// frames are never masked, so the same bytes are valid on every connection.
//
// Built on whichever thread renders it (hub or shard), then read by every
// shard that sends it. Its one later write, the cached compressed form, any
// of those shards may install (SetDeflated, atomic: the first one wins).
class Frame {
 public:
  // Encodes `payload` (UTF-8 JSON text) as one final text frame. `symbol` is
  // the conflation key: a newer frame with the same non-empty key may replace
  // this one in a slow session's queue; control replies use an empty key and
  // are never replaced.
  static std::shared_ptr<const Frame> Text(std::string_view payload, std::string symbol = {});

  // Same, but the payload is written by `fill` into a buffer of exactly
  // `payload_size` bytes, so a large payload is assembled in place, once.
  // `received_ns`: see received_ns().
  template <typename Fill>
  static std::shared_ptr<const Frame> TextInPlace(std::size_t payload_size, std::string symbol,
                                                  Fill&& fill, std::int64_t received_ns = 0) {
    auto frame = std::shared_ptr<Frame>(new Frame(std::move(symbol)));
    char* payload = frame->Allocate(payload_size);
    fill(payload);
    frame->received_ns_ = received_ns;
    return frame;
  }

  // An empty ping (opcode 0x9), shared by every session: the server's
  // heartbeat. Its empty symbol makes it a control item for the Outbox.
  static const std::shared_ptr<const Frame>& Ping();

  ~Frame();
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;

  // One whole frame: header (first byte `fin_and_opcode`, no mask, the
  // shortest length form) then `payload`.
  static std::unique_ptr<const std::string> EncodeHeader(unsigned char fin_and_opcode,
                                                         std::string_view payload);

  // The bytes to put on the wire.
  std::string_view wire() const { return storage_; }
  std::string_view payload() const { return wire().substr(header_size_); }
  const std::string& symbol() const { return symbol_; }
  // Whether permessage-deflate may compress it: data frames, not control.
  bool compressible() const { return compressible_; }
  // Steady-clock nanoseconds when the book this frame carries reached the
  // gateway (BookUpdate::received_ns), for the delivery latency histogram;
  // 0 for frames that are not a fresh book (snapshots, replies).
  std::int64_t received_ns() const { return received_ns_; }

  // The compressed form for permessage-deflate connections (FrameDeflater),
  // or an empty string when compressing does not pay; null until a shard
  // made it. The first shard to finish installs it; a racing shard's copy is
  // discarded, so no shard ever waits for another.
  const std::string* deflated() const { return deflated_.load(std::memory_order_acquire); }
  const std::string* SetDeflated(std::unique_ptr<const std::string> deflated) const;

 private:
  explicit Frame(std::string symbol) : symbol_(std::move(symbol)) {}
  // Sizes storage for header + payload, writes the header (first byte:
  // `fin_and_opcode`), returns where the payload goes.
  char* Allocate(std::size_t payload_size, unsigned char fin_and_opcode = 0x81);

  std::string symbol_;
  std::string storage_;
  std::size_t header_size_ = 0;
  bool compressible_ = true;
  std::int64_t received_ns_ = 0;
  mutable std::atomic<const std::string*> deflated_{nullptr};
};

using FramePtr = std::shared_ptr<const Frame>;

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_FANOUT_FRAME_H_
