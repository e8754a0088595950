#include "gateway/fanout/frame.h"

#include <cstring>

namespace obgw::gateway {

std::shared_ptr<const Frame> Frame::Text(std::string_view payload, std::string symbol) {
  return TextInPlace(payload.size(), std::move(symbol), [&](char* out) {
    if (!payload.empty()) std::memcpy(out, payload.data(), payload.size());
  });
}

namespace {

// RFC 6455 section 5.2: FIN/RSV/opcode byte, no mask, then a 7-bit, 16-bit
// or 64-bit big-endian length. Writes at most 10 bytes; returns how many.
std::size_t WriteHeader(unsigned char fin_and_opcode, std::size_t payload_size,
                        unsigned char* header) {
  header[0] = fin_and_opcode;
  if (payload_size < 126) {
    header[1] = static_cast<unsigned char>(payload_size);
    return 2;
  }
  if (payload_size <= 0xFFFF) {
    header[1] = 126;
    header[2] = static_cast<unsigned char>(payload_size >> 8);
    header[3] = static_cast<unsigned char>(payload_size);
    return 4;
  }
  header[1] = 127;
  for (int i = 0; i < 8; ++i) {
    header[2 + i] =
        static_cast<unsigned char>(static_cast<std::uint64_t>(payload_size) >> (8 * (7 - i)));
  }
  return 10;
}

}  // namespace

Frame::~Frame() { delete deflated_.load(std::memory_order_acquire); }

const std::shared_ptr<const Frame>& Frame::Ping() {
  static const std::shared_ptr<const Frame> ping = [] {
    auto frame = std::shared_ptr<Frame>(new Frame(std::string()));
    frame->Allocate(0, 0x89);
    frame->compressible_ = false;
    return frame;
  }();
  return ping;
}

std::unique_ptr<const std::string> Frame::EncodeHeader(unsigned char fin_and_opcode,
                                                       std::string_view payload) {
  unsigned char header[10];
  std::size_t header_size = WriteHeader(fin_and_opcode, payload.size(), header);
  auto bytes = std::make_unique<std::string>();
  bytes->reserve(header_size + payload.size());
  bytes->append(reinterpret_cast<const char*>(header), header_size);
  bytes->append(payload);
  return bytes;
}

const std::string* Frame::SetDeflated(std::unique_ptr<const std::string> deflated) const {
  const std::string* expected = nullptr;
  if (deflated_.compare_exchange_strong(expected, deflated.get(), std::memory_order_acq_rel)) {
    return deflated.release();
  }
  return expected;  // Another shard was first; ours is freed.
}

char* Frame::Allocate(std::size_t payload_size, unsigned char fin_and_opcode) {
  unsigned char header[10];
  header_size_ = WriteHeader(fin_and_opcode, payload_size, header);
  storage_.resize(header_size_ + payload_size);
  std::memcpy(storage_.data(), header, header_size_);
  return storage_.data() + header_size_;
}

}  // namespace obgw::gateway
