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

// Sums one counter over every shard.
std::uint64_t Sum(const SharedState& state, Counter ShardStats::*counter) {
  std::uint64_t total = 0;
  for (const auto& stats : state.shard_stats) {
    total += ((*stats).*counter).load(std::memory_order_relaxed);
  }
  return total;
}

}  // namespace

std::string RenderHealth(const SharedState& state) {
  // Degraded while producers are being pushed back: books wait in the queue.
  bool congested = state.queue.Depth() >= state.queue.high_water();
  IsoClock clock;
  boost::json::object body{
      {"status", congested ? "degraded" : "healthy"},
      {"timestamp", clock.Format(std::chrono::system_clock::now())},
      {"active_connections", Sum(state, &ShardStats::connections)},
      {"queue_depth", state.queue.Depth()},
      {"uptime_seconds", UptimeSeconds(state)},
      {"epoch", state.broker->epoch()},
  };
  return boost::json::serialize(body);
}

std::string RenderStats(const SharedState& state) {
  boost::json::object body{
      // The legacy middleware's fields first, same names.
      {"active_connections", Sum(state, &ShardStats::connections)},
      {"total_subscriptions", Sum(state, &ShardStats::subscriptions)},
      {"symbols", state.hub_stats.symbols.load(std::memory_order_relaxed)},
      {"messages_sent", Sum(state, &ShardStats::messages_sent)},
      {"uptime_seconds", UptimeSeconds(state)},
      // Then the gateway's own.
      {"connections_total", Sum(state, &ShardStats::connections_total)},
      {"messages_dropped", Sum(state, &ShardStats::messages_dropped)},
      {"messages_conflated", Sum(state, &ShardStats::messages_conflated)},
      {"socket_writes", Sum(state, &ShardStats::socket_writes)},
      {"bytes_sent", Sum(state, &ShardStats::bytes_sent)},
      {"ws_errors", Sum(state, &ShardStats::ws_errors)},
      {"ws_closed_too_big", Sum(state, &ShardStats::ws_closed_too_big)},
      {"ws_closed_slow_consumer", Sum(state, &ShardStats::ws_closed_slow)},
      {"ws_closed_idle", Sum(state, &ShardStats::ws_closed_idle)},
      {"ws_refused_connection_limit", Sum(state, &ShardStats::ws_closed_limit)},
      {"ws_closed_rate_limit", Sum(state, &ShardStats::ws_closed_rate)},
      {"ws_closed_unread_replies", Sum(state, &ShardStats::ws_closed_unread)},
      {"ws_rate_limited", Sum(state, &ShardStats::ws_rate_limited)},
      {"ws_pings_sent", Sum(state, &ShardStats::ws_pings_sent)},
      {"snapshots_sent", Sum(state, &ShardStats::snapshots_sent)},
      {"messages_throttled", Sum(state, &ShardStats::messages_throttled)},
      {"frames_deflated", Sum(state, &ShardStats::frames_deflated)},
      {"deflate_bytes_in", Sum(state, &ShardStats::deflate_bytes_in)},
      {"deflate_bytes_out", Sum(state, &ShardStats::deflate_bytes_out)},
      {"http_requests", Sum(state, &ShardStats::http_requests)},
      {"updates_routed", state.hub_stats.updates_routed.load(std::memory_order_relaxed)},
      {"hub_batches", state.hub_stats.batches.load(std::memory_order_relaxed)},
      {"hub_conflated", state.hub_stats.conflated.load(std::memory_order_relaxed)},
      {"hub_snapshots_rendered",
       state.hub_stats.snapshots_rendered.load(std::memory_order_relaxed)},
      {"queue_delay_ns_total", state.hub_stats.queue_delay_ns.load(std::memory_order_relaxed)},
      {"queue_depth", state.queue.Depth()},
      {"queue_high_water", state.queue.high_water()},
      {"threads", state.config.threads},
      {"epoch", state.broker->epoch()},
  };
  boost::json::object ingest{
      {"rest_accepted", Sum(state, &ShardStats::rest_accepted)},
      {"rest_rejected", Sum(state, &ShardStats::rest_rejected)},
  };
  if (state.config.extra_stats) state.config.extra_stats(ingest);
  body["ingest"] = std::move(ingest);
  return boost::json::serialize(body);
}

}  // namespace obgw::gateway
