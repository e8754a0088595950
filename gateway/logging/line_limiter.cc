#include "gateway/logging/line_limiter.h"

#include <algorithm>
#include <cmath>

namespace obgw::gateway {

void LineLimiter::Configure(double per_second, double burst) {
  full_at_ns_.store(0, std::memory_order_relaxed);
  suppressed_.store(0, std::memory_order_relaxed);
  if (!(per_second > 0)) {
    interval_ns_ = 0;
    tolerance_ns_ = 0;
    return;
  }
  interval_ns_ = std::max<std::int64_t>(1, std::llround(1e9 / per_second));
  tolerance_ns_ =
      static_cast<std::int64_t>((std::max(burst, 1.0) - 1) * static_cast<double>(interval_ns_));
}

bool LineLimiter::Take(std::int64_t now_ns) {
  if (interval_ns_ == 0) return true;
  std::int64_t full_at = full_at_ns_.load(std::memory_order_relaxed);
  for (;;) {
    const std::int64_t base = std::max(full_at, now_ns);
    if (base - now_ns > tolerance_ns_) break;
    if (full_at_ns_.compare_exchange_weak(full_at, base + interval_ns_,
                                          std::memory_order_relaxed)) {
      return true;
    }
  }
  // The first refusal since the last summary stamps the period.
  if (suppressed_.fetch_add(1, std::memory_order_relaxed) == 0) {
    first_suppressed_ns_.store(now_ns, std::memory_order_relaxed);
  }
  return false;
}

LineLimiter::Suppressed LineLimiter::TakeSuppressed(std::int64_t now_ns, std::int64_t min_age_ns) {
  if (suppressed_.load(std::memory_order_relaxed) == 0) return {};
  const std::int64_t since = first_suppressed_ns_.load(std::memory_order_relaxed);
  if (now_ns - since < min_age_ns) return {};
  // Two threads may both get here: exchange gives the count to one.
  const std::uint64_t lines = suppressed_.exchange(0, std::memory_order_relaxed);
  if (lines == 0) return {};
  return {lines, since};
}

}  // namespace obgw::gateway
