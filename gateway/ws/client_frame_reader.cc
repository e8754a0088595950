#include "gateway/ws/client_frame_reader.h"

#include <algorithm>

#include "gateway/ws/utf8.h"

namespace obgw::gateway {
namespace {

constexpr unsigned char kContinuation = 0x0;
constexpr unsigned char kTextOpcode = 0x1;
constexpr unsigned char kBinaryOpcode = 0x2;
constexpr unsigned char kCloseOpcode = 0x8;
constexpr unsigned char kPingOpcode = 0x9;
constexpr unsigned char kPongOpcode = 0xA;

// The header's length once its first two bytes are known.
std::size_t HeaderSize(const std::array<unsigned char, 14>& header) {
  const unsigned char length = header[1] & 0x7F;
  return 2 + (length == 126 ? 2 : length == 127 ? 8 : 0) + ((header[1] & 0x80) ? 4 : 0);
}

// Codes a peer may send in a close frame (RFC 6455 section 7.4).
bool IsValidCloseCode(std::uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1011 && code != 1004 && code != 1005 && code != 1006;
}

}  // namespace

ClientFrameReader::Event ClientFrameReader::Next(std::string_view& input) {
  if (error_.kind == Kind::kError) return error_;
  if (release_) {
    // Swapped, not cleared: an idle connection keeps no capacity.
    std::string().swap(event_is_control_ ? control_ : message_);
    release_ = false;
    event_is_control_ = false;
  }
  for (;;) {
    if (!in_frame_) {
      // Header bytes are copied one group at a time: first the two fixed
      // bytes, then the rest, whose size they give.
      std::size_t wanted = header_size_ < 2 ? 2 : HeaderSize(header_);
      while (header_size_ < wanted && !input.empty()) {
        std::size_t take = std::min(wanted - header_size_, input.size());
        std::copy_n(input.data(), take, header_.begin() + header_size_);
        header_size_ += take;
        input.remove_prefix(take);
        if (header_size_ == 2) wanted = HeaderSize(header_);
      }
      if (header_size_ < wanted) return Event{};
      Event started = StartFrame();
      if (started.kind == Kind::kError) return started;
    }
    std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size()));
    std::string& target = (opcode_ & 0x8) ? control_ : message_;
    const std::size_t start = target.size();
    target.append(input.data(), take);
    for (std::size_t i = 0; i < take; ++i) {
      target[start + i] = static_cast<char>(static_cast<unsigned char>(target[start + i]) ^
                                            mask_[(mask_offset_ + i) & 3]);
    }
    mask_offset_ += take;
    remaining_ -= take;
    input.remove_prefix(take);
    if (remaining_ > 0) return Event{};
    Event ended = EndFrame();
    if (ended.kind != Kind::kNeedMore) return ended;
  }
}

ClientFrameReader::Event ClientFrameReader::StartFrame() {
  const unsigned char first = header_[0];
  const bool fin = (first & 0x80) != 0;
  const bool rsv1 = (first & 0x40) != 0;
  const unsigned char opcode = first & 0x0F;
  if ((first & 0x30) != 0) return Fail(kProtocolError, "reserved bits set");
  if ((header_[1] & 0x80) == 0) return Fail(kProtocolError, "unmasked client frame");
  std::uint64_t length = header_[1] & 0x7F;
  std::size_t at = 2;
  if (length == 126) {
    length = (std::uint64_t{header_[2]} << 8) | header_[3];
    if (length < 126) return Fail(kProtocolError, "length not in its shortest form");
    at = 4;
  } else if (length == 127) {
    length = 0;
    for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | header_[i];
    if (length >> 63) return Fail(kProtocolError, "length's top bit set");
    if (length < 65536) return Fail(kProtocolError, "length not in its shortest form");
    at = 10;
  }
  std::copy_n(header_.begin() + at, 4, mask_.begin());
  header_size_ = 0;

  if (opcode & 0x8) {
    if (opcode != kCloseOpcode && opcode != kPingOpcode && opcode != kPongOpcode) {
      return Fail(kProtocolError, "unknown opcode");
    }
    if (!fin) return Fail(kProtocolError, "fragmented control frame");
    if (rsv1) return Fail(kProtocolError, "compressed control frame");
    if (length > 125) return Fail(kProtocolError, "control frame over 125 bytes");
  } else if (opcode == kContinuation) {
    if (!in_message_) return Fail(kProtocolError, "continuation outside a message");
    if (rsv1) return Fail(kProtocolError, "RSV1 on a continuation frame");
  } else if (opcode == kTextOpcode || opcode == kBinaryOpcode) {
    if (in_message_) return Fail(kProtocolError, "new message before the last one ended");
    if (rsv1 && !compression_) return Fail(kProtocolError, "RSV1 without permessage-deflate");
    in_message_ = true;
    message_text_ = opcode == kTextOpcode;
    message_compressed_ = rsv1;
  } else {
    return Fail(kProtocolError, "unknown opcode");
  }
  if (!(opcode & 0x8) && max_message_ > 0 && length > max_message_ - message_.size()) {
    return Fail(kTooBig, "message too big");
  }
  in_frame_ = true;
  fin_ = fin;
  opcode_ = opcode;
  remaining_ = length;
  mask_offset_ = 0;
  return Event{};
}

ClientFrameReader::Event ClientFrameReader::EndFrame() {
  in_frame_ = false;
  if (opcode_ & 0x8) {
    event_is_control_ = true;
    release_ = true;
    Event event;
    if (opcode_ == kPingOpcode) {
      event.kind = Kind::kPing;
    } else if (opcode_ == kPongOpcode) {
      event.kind = Kind::kPong;
    } else {
      event.kind = Kind::kClose;
      event.code = kNoStatus;
      if (control_.size() == 1) return Fail(kProtocolError, "close frame of one byte");
      if (control_.size() >= 2) {
        event.code = static_cast<std::uint16_t>((static_cast<unsigned char>(control_[0]) << 8) |
                                                static_cast<unsigned char>(control_[1]));
        if (!IsValidCloseCode(event.code)) return Fail(kProtocolError, "invalid close code");
        control_.erase(0, 2);
        if (!IsValidUtf8(control_)) return Fail(kProtocolError, "close reason not UTF-8");
      }
    }
    return event;
  }
  if (!fin_) return Event{};
  in_message_ = false;
  event_is_control_ = false;
  release_ = true;
  Event event;
  event.kind = message_text_ ? Kind::kText : Kind::kBinary;
  event.compressed = message_compressed_;
  return event;
}

ClientFrameReader::Event ClientFrameReader::Fail(std::uint16_t code, std::string_view reason) {
  error_.kind = Kind::kError;
  error_.code = code;
  error_.reason = reason;
  // Nothing more is read: the buffers go now.
  std::string().swap(message_);
  std::string().swap(control_);
  return error_;
}

}  // namespace obgw::gateway
