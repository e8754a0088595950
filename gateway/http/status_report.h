#ifndef OBGW_GATEWAY_HTTP_STATUS_REPORT_H_
#define OBGW_GATEWAY_HTTP_STATUS_REPORT_H_

#include <string>

#include "gateway/metrics/stat_registry.h"
#include "gateway/server/shared_state.h"

namespace obgw::gateway {

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
