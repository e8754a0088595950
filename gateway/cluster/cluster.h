#ifndef OBGW_GATEWAY_CLUSTER_CLUSTER_H_
#define OBGW_GATEWAY_CLUSTER_CLUSTER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/cluster/session_store.h"
#include "gateway/fanout/broker.h"
#include "gateway/fanout/update_queue.h"
#include "gateway/metrics/stat_registry.h"

namespace obgw::gateway {

// What one node gets from the cluster it belongs to: the Broker that orders
// the books (the hub's), the SessionStore that keeps client sessions and the
// per-client_id connection count (the shards'), and the cluster's health and
// stats for /health, /stats and /metrics.
// Implementations: InMemoryCluster (one node, the embedded default, this
// folder) and RedisCluster (gateway/redis, --redis_url).
//
// Lifetime: created by the node's owner before any thread starts, Start()ed
// before the hub and the shards, Stop()ped after they have stopped, so its
// parts outlive every caller. broker() and sessions() keep returning the
// same objects for its whole life.
class Cluster {
 public:
  virtual ~Cluster() = default;

  virtual Broker& broker() = 0;
  virtual SessionStore& sessions() = 0;

  // Starts the cluster's own threads (none for one node). Caller's thread.
  virtual void Start() {}
  // Joins them; no callback runs after it returns. Caller's thread.
  virtual void Stop() {}

  // Empty when healthy; otherwise the reason /health says "degraded"
  // ("redis unreachable: Connection refused"). Never holds a secret. Any
  // thread.
  virtual std::string DegradedReason() const { return {}; }

  // The cluster's stats, shown in /stats and /metrics after the node's own.
  // They refer to the cluster, which outlives every registry built from
  // them. Any thread.
  virtual std::vector<RegisteredStat> Stats() const { return {}; }
  // Its histograms (latencies), same rules.
  virtual std::vector<RegisteredHistogram> Histograms() const { return {}; }
};

// Builds a node's Cluster once the node's queue exists (a cluster broker
// delivers the books it receives through it; `queue` outlives the cluster).
using ClusterFactory = std::function<std::unique_ptr<Cluster>(UpdateQueue& queue)>;

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_CLUSTER_CLUSTER_H_
