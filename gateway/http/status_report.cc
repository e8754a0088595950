#include "gateway/http/status_report.h"

#include "gateway/fanout/update_frame.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace obgw::gateway {
namespace {

std::uint64_t UptimeSeconds(const SharedState& state) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::steady_clock::now() - state.started)
                                        .count());
}

std::vector<const ShardStats*> Shards(const SharedState& state) {
  std::vector<const ShardStats*> shards;
  for (const auto& stats : state.shard_stats) shards.push_back(stats.get());
  return shards;
}

}  // namespace

StatRegistry GatewayRegistry(const SharedState& state) {
  std::vector<const ShardStats*> shards = Shards(state);
  const HubStats* hub = &state.hub_stats;
  StatRegistry registry;
  registry.AddSharded<ShardStats>(kShardStatFields, shards);
  registry.Add(kHubStatFields, state.hub_stats);
  registry.AddComputed({"uptime", StatKind::kGauge, "uptime_seconds", "uptime_seconds", "",
                        "Whole seconds since start"},
                       [&state] { return UptimeSeconds(state); });
  registry.AddComputed({"queue_depth", StatKind::kGauge, "queue_depth", "hub_queue_depth", "",
                        "Messages (books and subscription changes) waiting for the hub"},
                       [&state] { return state.queue.Depth(); });
  registry.AddComputed(
      {"queue_high_water", StatKind::kGauge, "queue_high_water", "hub_queue_high_water", "",
       "Queue depth at which REST answers 503 and gRPC streams pause (--queue_high_water)"},
      [&state] { return state.queue.high_water(); });
  registry.AddComputed(
      {"threads", StatKind::kGauge, "threads", "io_threads", "", "I/O threads (--threads)"},
      [&state] { return state.config.threads; });
  registry.AddComputed({"epoch", StatKind::kGauge, "epoch", "epoch", "",
                        "This run of the gateway as sent to clients: its start in microseconds "
                        "since 1970"},
                       [&state] { return state.broker().epoch(); });
  registry.Add(state.config.extra_stats);
  registry.Add(state.cluster->Stats());
  registry.AddHistograms<ShardStats>(kShardHistogramFields, shards, /*by_shard=*/true);
  registry.AddHistograms<HubStats>(kHubHistogramFields, std::span(&hub, 1), /*by_shard=*/false);
  registry.Add(state.cluster->Histograms());
  return registry;
}

Health CurrentHealth(const SharedState& state) {
  // Degraded while producers are being pushed back (books wait in the
  // queue) or the cluster is (Redis away: this node serves only its own
  // clients).
  Health health{state.cluster->DegradedReason()};
  if (health.healthy() && state.queue.Depth() >= state.queue.high_water()) {
    health.degraded_reason = "queue at its high-water mark: producers are being pushed back";
  }
  return health;
}

std::string RenderHealth(const SharedState& state) {
  // "reason" says why it is degraded.
  std::string reason = CurrentHealth(state).degraded_reason;
  IsoClock clock;
  boost::json::object body{
      {"status", reason.empty() ? "healthy" : "degraded"},
      {"timestamp", clock.Format(std::chrono::system_clock::now())},
      {"active_connections", state.OpenConnections()},
      {"queue_depth", state.queue.Depth()},
      {"uptime_seconds", UptimeSeconds(state)},
      {"epoch", state.broker().epoch()},
      {"version", state.config.version},
  };
  if (!reason.empty()) body["reason"] = reason;
  return boost::json::serialize(body);
}

std::string RenderStats(const SharedState& state) {
  boost::json::object body = GatewayRegistry(state).RenderJson();
  if (!state.config.node_id.empty()) body["node_id"] = state.config.node_id;
  return boost::json::serialize(body);
}

std::string RenderMetrics(const SharedState& state) {
  return GatewayRegistry(state).RenderPrometheus();
}

}  // namespace obgw::gateway
