#include "gateway/frame.h"

#include <cstring>

namespace obgw::gateway {

std::shared_ptr<const Frame> Frame::Text(std::string_view payload, std::string symbol) {
  return TextInPlace(payload.size(), std::move(symbol),
                     [&](char* out) { std::memcpy(out, payload.data(), payload.size()); });
}

const std::shared_ptr<const Frame>& Frame::Ping() {
  static const std::shared_ptr<const Frame> ping = [] {
    auto frame = std::shared_ptr<Frame>(new Frame(std::string()));
    frame->Allocate(0, 0x89);
    return frame;
  }();
  return ping;
}

char* Frame::Allocate(std::size_t payload_size, unsigned char fin_and_opcode) {
  // RFC 6455 section 5.2: FIN + opcode (0x1 text), no mask, then a 7-bit,
  // 16-bit or 64-bit big-endian length.
  unsigned char header[10];
  header[0] = fin_and_opcode;
  if (payload_size < 126) {
    header[1] = static_cast<unsigned char>(payload_size);
    header_size_ = 2;
  } else if (payload_size <= 0xFFFF) {
    header[1] = 126;
    header[2] = static_cast<unsigned char>(payload_size >> 8);
    header[3] = static_cast<unsigned char>(payload_size);
    header_size_ = 4;
  } else {
    header[1] = 127;
    for (int i = 0; i < 8; ++i) {
      header[2 + i] =
          static_cast<unsigned char>(static_cast<std::uint64_t>(payload_size) >> (8 * (7 - i)));
    }
    header_size_ = 10;
  }
  storage_.resize(header_size_ + payload_size);
  std::memcpy(storage_.data(), header, header_size_);
  return storage_.data() + header_size_;
}

}  // namespace obgw::gateway
