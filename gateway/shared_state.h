#ifndef OBGW_GATEWAY_SHARED_STATE_H_
#define OBGW_GATEWAY_SHARED_STATE_H_

#include <chrono>
#include <memory>
#include <vector>

#include "gateway/gateway_config.h"
#include "gateway/gateway_stats.h"
#include "gateway/update_queue.h"

namespace obgw::gateway {

// What every component of one gateway shares: the configuration, the queue to
// the hub, and every thread's counters (for /stats). Owned by Gateway; lives
// as long as every thread that refers to it.
struct SharedState {
  explicit SharedState(GatewayConfig cfg) : config(std::move(cfg)), queue(config.queue_high_water) {
    for (std::uint32_t i = 0; i < config.threads; ++i) {
      shard_stats.push_back(std::make_unique<ShardStats>());
    }
  }

  const GatewayConfig config;
  UpdateQueue queue;
  HubStats hub_stats;
  std::vector<std::unique_ptr<ShardStats>> shard_stats;
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_SHARED_STATE_H_
