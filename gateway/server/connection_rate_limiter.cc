#include "gateway/server/connection_rate_limiter.h"

#include <algorithm>
#include <chrono>

#include <absl/hash/hash.h>

namespace obgw::gateway {

ConnectionRateLimiter::ConnectionRateLimiter(double per_second, std::size_t burst)
    : per_second_(per_second),
      burst_(static_cast<double>(burst)),
      slots_(std::make_unique<Slot[]>(kSlots)) {}

std::uint64_t ConnectionRateLimiter::Key(const boost::asio::ip::address& peer) {
  if (peer.is_v4()) return (std::uint64_t{0xffffffff} << 32) | peer.to_v4().to_uint();
  const boost::asio::ip::address_v6 v6 = peer.to_v6();
  if (v6.is_v4_mapped()) {
    return (std::uint64_t{0xffffffff} << 32) |
           boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_uint();
  }
  const boost::asio::ip::address_v6::bytes_type bytes = v6.to_bytes();
  std::uint64_t prefix = 0;
  for (int i = 0; i < 8; ++i) prefix = (prefix << 8) | bytes[i];
  return prefix;
}

bool ConnectionRateLimiter::Admit(const boost::asio::ip::address& peer, Clock::time_point now) {
  const std::uint64_t key = Key(peer);
  // absl::Hash is seeded per process: which addresses share a slot cannot be
  // chosen from outside.
  Slot& slot = slots_[absl::Hash<std::uint64_t>{}(key) & (kSlots - 1)];
  double tokens = burst_;
  if (slot.refilled_at != Clock::time_point::min()) {
    const std::chrono::duration<double> elapsed = now - slot.refilled_at;
    tokens = std::min(burst_, slot.tokens + std::max(0.0, elapsed.count()) * per_second_);
  }
  // A refilled bucket is as good as a new one: the slot changes hands.
  if (slot.key != key && tokens >= burst_) slot.key = key;
  slot.refilled_at = now;
  if (tokens < 1) {
    slot.tokens = tokens;
    return false;
  }
  slot.tokens = tokens - 1;
  return true;
}

}  // namespace obgw::gateway
