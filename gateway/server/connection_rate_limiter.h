#ifndef OBGW_GATEWAY_SERVER_CONNECTION_RATE_LIMITER_H_
#define OBGW_GATEWAY_SERVER_CONNECTION_RATE_LIMITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include <boost/asio/ip/address.hpp>

#include "gateway/fanout/clock.h"

namespace obgw::gateway {

// The per-IP limit on new connections (--connection_rate_per_ip,
// --connection_burst_per_ip): a token bucket of `burst` connections per peer
// IP, refilled at `per_second`; a connection that finds its bucket empty is
// refused. The Listener asks before any HTTP parse or TLS handshake, so a
// client opening connections in a loop costs one accept and one close each.
// An IPv6 peer counts by its /64 (what one host or subscriber usually gets:
// per address, one host would have 2^64 buckets); IPv4 and IPv4-mapped IPv6
// by the address.
//
// Bounded memory under a flood of distinct addresses: a fixed table of
// kSlots slots (24 bytes each, 1.5 MiB), allocated once, indexed by a
// per-process seeded hash of the address. A slot holds the bucket of the
// address that last used it. A new address takes a slot over once the
// resident's bucket has refilled (it would be full anyway, as a new one is);
// until then the two share the bucket. So the table never grows or evicts a
// busy bucket, the limit never loosens under a flood, and the price is that
// an address whose slot a busy address holds may be refused early (with k
// busy addresses, about k / kSlots of the others).
//
// Not TokenBucket (gateway/ws): that is a WebSocket's message limit, with a
// hang-up after repeated refusals, in a folder above this one.
//
// Owns the table. Thread-compatible: the Listener calls it on its thread
// (shard 0's) only, and asserts so.
class ConnectionRateLimiter {
 public:
  static constexpr std::size_t kSlots = std::size_t{1} << 16;

  // `per_second` > 0, `burst` >= 1.
  ConnectionRateLimiter(double per_second, std::size_t burst);

  // Whether a connection from `peer` arriving at `now` (never earlier than
  // the previous call's) is within its address's budget; takes one from it.
  bool Admit(const boost::asio::ip::address& peer, Clock::time_point now);

 private:
  struct Slot {
    std::uint64_t key = 0;
    double tokens = 0;
    // Empty slot: min().
    Clock::time_point refilled_at = Clock::time_point::min();
  };

  // The address as the table counts it: IPv4 (also IPv4-mapped) tagged in
  // the top bits, where no unicast IPv6 /64 lies; IPv6 its first 64 bits.
  static std::uint64_t Key(const boost::asio::ip::address& peer);

  const double per_second_;
  const double burst_;
  const std::unique_ptr<Slot[]> slots_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_SERVER_CONNECTION_RATE_LIMITER_H_
