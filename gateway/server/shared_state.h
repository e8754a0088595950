#ifndef OBGW_GATEWAY_SERVER_SHARED_STATE_H_
#define OBGW_GATEWAY_SERVER_SHARED_STATE_H_

#include <chrono>
#include <memory>
#include <vector>

#include "gateway/cluster/cluster.h"
#include "gateway/cluster/in_memory_cluster.h"
#include "gateway/fanout/broker.h"
#include "gateway/fanout/subscriber_counts.h"
#include "gateway/fanout/update_queue.h"
#include "gateway/metrics/gateway_stats.h"
#include "gateway/server/connection_limits.h"
#include "gateway/server/gateway_config.h"

namespace obgw::gateway {

// What every component of one gateway shares: the configuration, the queue to
// the hub, the subscriber counts the hub publishes (read by the REST shim),
// every thread's counters (for /stats), the per-node connection
// limit and the cluster (its broker orders the books, its session store keeps
// client sessions and the per-client_id limit). Owned by Gateway; lives as long as every thread
// that refers to it.
struct SharedState {
  // `make_cluster` builds the cluster once the queue exists; empty: a
  // cluster of one node, in memory (InMemoryCluster).
  explicit SharedState(GatewayConfig cfg, const ClusterFactory& make_cluster = {})
      : config(std::move(cfg)),
        queue(config.queue_high_water),
        connection_limits(config.max_connections),
        cluster(make_cluster ? make_cluster(queue)
                             : std::make_unique<InMemoryCluster>(
                                   config.session_ttl, config.max_connections_per_client)) {
    for (std::uint32_t i = 0; i < config.threads; ++i) {
      shard_stats.push_back(std::make_unique<ShardStats>());
    }
  }

  // Orders the books for the hub; its epoch goes out with confirmations and
  // /stats (a single node's changes at every restart: seq restarted).
  Broker& broker() const { return cluster->broker(); }

  // Keeps client sessions and the per-client_id connection limit.
  SessionStore& sessions() const { return cluster->sessions(); }

  // Open WebSocket connections over every shard (any thread: reads atomics).
  std::uint64_t OpenConnections() const {
    std::uint64_t open = 0;
    for (const auto& stats : shard_stats)
      open += stats->connections.load(std::memory_order_relaxed);
    return open;
  }

  const GatewayConfig config;
  UpdateQueue queue;
  SubscriberCounts subscriber_counts;
  HubStats hub_stats;
  std::vector<std::unique_ptr<ShardStats>> shard_stats;
  ConnectionLimits connection_limits;
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  const std::unique_ptr<Cluster> cluster;
  // Whether the hub orders books itself (a single node, InMemoryCluster), so a
  // REST publish is answered once queued; a cluster node answers once the
  // cluster ordered the book (the hub's round trip: it is in Redis by then).
  const bool orders_locally = dynamic_cast<InMemoryCluster*>(cluster.get()) != nullptr;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_SERVER_SHARED_STATE_H_
