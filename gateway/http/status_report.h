#ifndef OBGW_GATEWAY_HTTP_STATUS_REPORT_H_
#define OBGW_GATEWAY_HTTP_STATUS_REPORT_H_

#include <string>

#include "gateway/metrics/stat_registry.h"
#include "gateway/server/shared_state.h"

namespace obgw::gateway {

// The node's health: what GET /health says ("healthy", or "degraded" with
// the reason) and what the gRPC health service follows (SERVING or
// NOT_SERVING). The one place that decides it.
struct Health {
  // Empty when healthy; otherwise why the node is degraded: the cluster's
  // reason (Redis away, cluster epoch unknown), else the hub queue at its
  // high-water mark. Never holds a secret.
  std::string degraded_reason;

  bool healthy() const { return degraded_reason.empty(); }
  bool operator==(const Health&) const = default;
};

// The health of the node `state` belongs to, now. Reads atomics and the
// cluster's reason (a short lock): any thread, cheap enough to poll.
Health CurrentHealth(const SharedState& state);

// Bodies of GET /health, GET /stats and GET /metrics, summed over every
// shard's counters (/metrics also per shard). Read atomics only: safe on
// any thread.
std::string RenderHealth(const SharedState& state);
std::string RenderStats(const SharedState& state);
std::string RenderMetrics(const SharedState& state);

// Every stat of `state` (shards, hub, config.extra_stats, and the values
// computed from the queue, the clock and the configuration). Refers to
// `state`, which must outlive it.
StatRegistry GatewayRegistry(const SharedState& state);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_HTTP_STATUS_REPORT_H_
