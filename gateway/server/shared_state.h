#ifndef OBGW_GATEWAY_SERVER_SHARED_STATE_H_
#define OBGW_GATEWAY_SERVER_SHARED_STATE_H_

#include <chrono>
#include <memory>
#include <vector>

#include "gateway/server/connection_limits.h"
#include "gateway/server/gateway_config.h"
#include "gateway/metrics/gateway_stats.h"
#include "gateway/fanout/update_queue.h"

namespace obgw::gateway {

// What every component of one gateway shares: the configuration, the queue to
// the hub, every thread's counters (for /stats), the connection limits and the
// epoch. Owned by Gateway; lives
// as long as every thread that refers to it.
struct SharedState {
  explicit SharedState(GatewayConfig cfg)
      : config(std::move(cfg)),
        queue(config.queue_high_water),
        connection_limits(config.max_connections_per_client, config.max_connections) {
    for (std::uint32_t i = 0; i < config.threads; ++i) {
      shard_stats.push_back(std::make_unique<ShardStats>());
    }
  }

  const GatewayConfig config;
  UpdateQueue queue;
  HubStats hub_stats;
  std::vector<std::unique_ptr<ShardStats>> shard_stats;
  ConnectionLimits connection_limits;
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // Tells this run apart from earlier ones (clients see it with snapshots and
  // confirmations; a new epoch means seq restarted): the start time in
  // microseconds since 1970, exact in a JSON number.
  const std::uint64_t epoch =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_SERVER_SHARED_STATE_H_
