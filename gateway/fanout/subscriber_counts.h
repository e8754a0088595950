#ifndef OBGW_GATEWAY_FANOUT_SUBSCRIBER_COUNTS_H_
#define OBGW_GATEWAY_FANOUT_SUBSCRIBER_COUNTS_H_

#include <cstdint>
#include <string>

#include <absl/base/thread_annotations.h>
#include <absl/container/flat_hash_map.h>

#include "gateway/fanout/mutex.h"

namespace obgw::gateway {

// How many subscriptions of each symbol this node's hub has counted, readable
// from any thread. The hub writes it (Set) on its thread at every
// subscription change, before it confirms the change; I/O shards read it
// (Get) to answer a REST publish as soon as its book is queued, without a
// round trip through the hub (docs/protocol.md 3.1).
//
// Owns one count per symbol with at least one subscription (a symbol whose
// count falls to zero is erased, so the memory follows the subscribed
// symbols, not every symbol ever published). A mutex, not an atomic per
// symbol: changes are rare, a read is one uncontended lock per REST request,
// and the hub's own per-symbol state stays private to its thread.
class SubscriberCounts {
 public:
  SubscriberCounts() = default;
  SubscriberCounts(const SubscriberCounts&) = delete;
  SubscriberCounts& operator=(const SubscriberCounts&) = delete;

  // Hub thread: `symbol` now has `count` subscriptions on this node.
  void Set(const std::string& symbol, std::uint32_t count) {
    MutexLock lock(mutex_);
    if (count == 0) {
      counts_.erase(symbol);
    } else {
      counts_[symbol] = count;
    }
  }

  // Any thread: the count last Set for `symbol` (0 if none).
  std::uint32_t Get(const std::string& symbol) const {
    MutexLock lock(mutex_);
    auto it = counts_.find(symbol);
    return it == counts_.end() ? 0 : it->second;
  }

 private:
  mutable Mutex mutex_;
  absl::flat_hash_map<std::string, std::uint32_t> counts_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_FANOUT_SUBSCRIBER_COUNTS_H_
