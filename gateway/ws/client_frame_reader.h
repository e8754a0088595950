#ifndef OBGW_GATEWAY_WS_CLIENT_FRAME_READER_H_
#define OBGW_GATEWAY_WS_CLIENT_FRAME_READER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace obgw::gateway {

// Decodes what a WebSocket client sends (RFC 6455 section 5, server side):
// masked frames, fragmented messages, control frames interleaved, the
// permessage-deflate bit (RFC 7692) when negotiated, the message size limit.
// It keeps memory only for a message or control frame still arriving and
// lets it go once the event is taken: an idle connection's reader holds no
// heap block (Beast's stream keeps a 1.5 KiB read buffer per connection,
// plus what its reads prepare; see docs/performance.md "Memory per
// connection").
//
// A plain state machine, no I/O, no clock: the WebSocketSession feeds it the
// bytes it read on its shard's thread. Owns the partial header and the
// payload being assembled.
class ClientFrameReader {
 public:
  enum class Kind {
    kNeedMore,  // Every input byte consumed; no event complete.
    kText,      // A whole data message: payload() (compressed when `compressed`).
    kBinary,
    kPing,   // payload(): the ping's application data, for the pong.
    kPong,   //
    kClose,  // The peer's close frame: `code` (1005 when it had none), payload() its reason.
    kError,  // A protocol violation: close the connection with `code`, `reason`.
  };
  struct Event {
    Kind kind = Kind::kNeedMore;
    bool compressed = false;
    std::uint16_t code = 0;
    std::string_view reason;  // kError: a string literal.
  };

  // Close codes the reader answers with (RFC 6455 section 7.4.1).
  static constexpr std::uint16_t kNoStatus = 1005;
  static constexpr std::uint16_t kProtocolError = 1002;
  static constexpr std::uint16_t kTooBig = 1009;

  // `max_message_bytes`: the largest message (all its frames), 0 for none.
  explicit ClientFrameReader(std::size_t max_message_bytes) : max_message_(max_message_bytes) {}

  // permessage-deflate was negotiated: RSV1 marks a compressed message.
  void AllowCompression() { compression_ = true; }

  // Consumes bytes from the front of `input` up to the end of the next event
  // and returns it; kNeedMore once `input` is used up. After kError every
  // call returns that error again. The previous event's payload is released
  // here.
  Event Next(std::string_view& input);

  // The payload of the event just returned (valid until the next Next()).
  std::string_view payload() const { return event_is_control_ ? control_ : message_; }

 private:
  Event Fail(std::uint16_t code, std::string_view reason);
  // Validates the complete header in header_ and starts its frame.
  Event StartFrame();
  // The frame's payload is complete: the event it ends, or kNeedMore.
  Event EndFrame();

  const std::size_t max_message_;
  bool compression_ = false;
  // The frame header being read: 2 bytes, up to 8 of extended length, 4 of mask.
  std::array<unsigned char, 14> header_{};
  std::size_t header_size_ = 0;
  // The frame whose payload is being read.
  bool in_frame_ = false;
  bool fin_ = false;
  unsigned char opcode_ = 0;
  std::array<unsigned char, 4> mask_{};
  std::uint64_t remaining_ = 0;  // Payload bytes of the frame still to come.
  std::size_t mask_offset_ = 0;  // Payload bytes of the frame unmasked so far.
  // The data message being assembled (frames up to the one with FIN).
  bool in_message_ = false;
  bool message_text_ = false;
  bool message_compressed_ = false;
  std::string message_;
  std::string control_;  // A control frame's payload (at most 125 bytes).
  bool event_is_control_ = false;
  bool release_ = false;  // The last event's payload is freed at the next call.
  Event error_;           // Once failed, kError.
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_WS_CLIENT_FRAME_READER_H_
