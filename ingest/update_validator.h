#ifndef OBGW_INGEST_UPDATE_VALIDATOR_H_
#define OBGW_INGEST_UPDATE_VALIDATOR_H_

#include <cstddef>

#include "absl/status/status.h"
#include "orderbook/v1/orderbook.pb.h"

namespace obgw::ingest {

// Limits an update must respect before it may reach the fan-out.
struct ValidationLimits {
  // Most levels accepted per side (the proto documents 1,000).
  std::size_t max_levels = 1000;
};

// Longest display timestamp accepted (proto: "at most 64 characters").
inline constexpr std::size_t kMaxTimestampLength = 64;

// Checks one OrderBookUpdate: a valid symbol (gateway::IsValidSymbol), at
// most `limits.max_levels` levels per side, every price finite and > 0,
// every volume finite and >= 0, a timestamp of at most 64 characters without
// control characters. Returns OK or InvalidArgument with a human reason such
// as "bids[3].price is not finite"; the first problem found wins.
//
// Best-first ordering is deliberately not checked: backends forward what
// their feed has, and refusing a momentarily crossed book would hide data.
//
// Pure function; runs on the gRPC callback thread that read the update.
absl::Status ValidateUpdate(const orderbook::v1::OrderBookUpdate& update,
                            const ValidationLimits& limits);

}  // namespace obgw::ingest

#endif  // OBGW_INGEST_UPDATE_VALIDATOR_H_
