#ifndef OBGW_GATEWAY_METRICS_SESSION_STATS_H_
#define OBGW_GATEWAY_METRICS_SESSION_STATS_H_

#include <atomic>
#include <cstdint>

#include "gateway/metrics/stat_declaration.h"

// The stats of a node's Redis session store and node registry
// (gateway/redis), declared once, in the shape of gateway_stats.h: the struct
// below, GET /stats (under "cluster") and GET /metrics all come from this
// list. The per-shard sessions_restored / symbols_restored are in
// gateway_stats.h.

// COUNTER/GAUGE(member, /stats name, Prometheus family, labels, help)
#define OBGW_SESSION_STATS(COUNTER, GAUGE)                                                       \
  GAUGE(nodes, "cluster.nodes", "cluster_nodes", "",                                             \
        "Live nodes in the registry, this one included (0 while Redis is unreachable)")          \
  GAUGE(connections, "cluster.connections", "cluster_connections", "",                           \
        "WebSocket connections the live nodes last reported, this one included")                 \
  GAUGE(local_connections, "cluster.node_connections", "cluster_node_connections", "",           \
        "Connections this node's session store admitted and has not closed")                     \
  COUNTER(registry_beats, "cluster.registry_beats", "cluster_registry_beats", "",                \
          "Leases renewed in the node registry")                                                 \
  COUNTER(store_errors, "cluster.session_store_errors", "session_store_errors", "",              \
          "Session or registry replies from Redis that were errors or of an unexpected shape")   \
  COUNTER(opens_local, "cluster.session_opens_local", "session_opens_answered_locally", "",      \
          "Connections admitted or refused by this node alone (Redis down or slow): the limit "  \
          "is then per node")                                                                    \
  COUNTER(opens_redis, "cluster.session_opens_redis", "session_opens_answered_by_redis", "",     \
          "Connections admitted or refused by Redis under the cluster-wide per-client_id limit") \
  COUNTER(resyncs, "cluster.session_resyncs", "session_resyncs", "",                             \
          "Times this node re-registered its open sessions in Redis after it came back")

namespace obgw::gateway {

// Written by the Redis thread only (relaxed); read by /stats and /metrics
// from any shard.
struct alignas(64) SessionStats {
  OBGW_SESSION_STATS(OBGW_STAT_MEMBER, OBGW_STAT_MEMBER)
};

inline constexpr auto kSessionStatFields = OBGW_DESCRIBE_STATS(SessionStats, OBGW_SESSION_STATS);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_METRICS_SESSION_STATS_H_
