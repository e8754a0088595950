#include "gateway/server/connection_limits.h"

namespace obgw::gateway {

bool ConnectionLimits::Admit() {
  std::size_t open = open_.load(std::memory_order_relaxed);
  // A refused connection takes no slot, even for a moment.
  do {
    if (open >= per_node_) return false;
  } while (!open_.compare_exchange_weak(open, open + 1, std::memory_order_relaxed));
  return true;
}

void ConnectionLimits::Release() { open_.fetch_sub(1, std::memory_order_relaxed); }

}  // namespace obgw::gateway
