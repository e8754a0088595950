#include "gateway/ws/token_bucket.h"

#include <algorithm>
#include <chrono>

namespace obgw::gateway {

TokenBucket::TokenBucket(std::size_t burst, double per_second, Clock::time_point now)
    : burst_(static_cast<double>(burst)),
      per_second_(per_second),
      tokens_(burst_),
      refilled_at_(now) {}

TokenBucket::Verdict TokenBucket::Take(Clock::time_point now) {
  std::chrono::duration<double> elapsed = now - refilled_at_;
  tokens_ = std::min(burst_, tokens_ + elapsed.count() * per_second_);
  refilled_at_ = now;
  if (tokens_ >= 1) {
    tokens_ -= 1;
    refused_in_row_ = 0;
    return Verdict::kAccepted;
  }
  // Not slowing down after a burst of refusals: hang up.
  return static_cast<double>(++refused_in_row_) >= burst_ ? Verdict::kHangUp : Verdict::kRefused;
}

}  // namespace obgw::gateway
