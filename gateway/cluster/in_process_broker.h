#ifndef OBGW_GATEWAY_CLUSTER_IN_PROCESS_BROKER_H_
#define OBGW_GATEWAY_CLUSTER_IN_PROCESS_BROKER_H_

#include <cstdint>
#include <string>

#include <absl/container/flat_hash_set.h>

#include "gateway/fanout/broker.h"

namespace obgw::gateway {

// The Broker of a single node (the embedded default, no --redis_url): this
// node is the whole cluster, so it orders every book itself, at once.
//
// Seq: the next offset after the last one the hub routed for the symbol, so
// the count lives in the hub's per-symbol state and costs no second lookup.
// Epoch: the broker's start time in microseconds since 1970 (exact in a JSON
// number); a restarted node restarts every seq and so starts a new epoch.
// Last book: the hub's last-value cache holds every book this broker ordered,
// which is all the cluster has; keeping a second copy here would copy every
// book, so this broker keeps none and never delivers one on Follow.
// Followed symbols: kept here (the hub reports each first subscriber and
// each last one leaving).
//
// Threads: created and destroyed by the node's owner; Sequence, Follow,
// Unfollow and Follows on the hub thread; epoch() on any thread.
class InProcessBroker : public Broker {
 public:
  // `epoch`: normally EpochNow(); tests pass a fixed one.
  explicit InProcessBroker(std::uint64_t epoch) : epoch_(epoch) {}

  // Microseconds since 1970, now.
  static std::uint64_t EpochNow();

  bool Sequence(BookUpdate& update, StreamPosition last) override;
  void Follow(const std::string& symbol) override { followed_.insert(symbol); }
  void Unfollow(const std::string& symbol) override { followed_.erase(symbol); }
  std::uint64_t epoch() const override { return epoch_; }

  // Whether this node has a subscriber of `symbol`.
  bool Follows(const std::string& symbol) const { return followed_.contains(symbol); }

 private:
  const std::uint64_t epoch_;
  absl::flat_hash_set<std::string> followed_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_CLUSTER_IN_PROCESS_BROKER_H_
