#ifndef OBGW_GATEWAY_METRICS_GATEWAY_STATS_H_
#define OBGW_GATEWAY_METRICS_GATEWAY_STATS_H_

#include <atomic>
#include <cstdint>

namespace obgw::gateway {

using Counter = std::atomic<std::uint64_t>;

// Counters of one I/O shard. Written only by that shard's thread (relaxed,
// uncontended: each shard has its own cache lines); read by /stats from any
// shard.
struct alignas(64) ShardStats {
  Counter connections{0};         // open WebSocket sessions (gauge)
  Counter connections_total{0};   // WebSocket sessions ever accepted
  Counter subscriptions{0};       // live (session, symbol) pairs (gauge)
  Counter messages_sent{0};       // frames written to sockets, of every type
  Counter messages_conflated{0};  // queued books replaced by a newer one
  Counter messages_dropped{0};    // frames dropped from a full send queue
  Counter socket_writes{0};       // gather writes issued (frames per write =
                                  // messages_sent / socket_writes)
  Counter bytes_sent{0};
  Counter ws_errors{0};           // error replies sent to clients
  Counter ws_closed_too_big{0};   // sessions closed with 1009
  Counter ws_closed_slow{0};      // closed 1008 "slow consumer"
  Counter ws_closed_idle{0};      // closed: silent for idle_timeout
  Counter ws_closed_limit{0};     // refused: connection limit (per client_id or node)
  Counter ws_closed_rate{0};      // closed 1008 "rate limit exceeded"
  Counter ws_closed_unread{0};    // closed 1008 "too many unread replies"
  Counter ws_rate_limited{0};     // client messages rejected by the rate limit
  Counter ws_pings_sent{0};       // heartbeat pings
  Counter snapshots_sent{0};      // snapshot books queued to new subscribers
  Counter messages_throttled{0};  // books replaced within a client's throttle_ms
  Counter frames_deflated{0};     // frames compressed (once per frame, by
                                  // the first shard that needed it)
  Counter deflate_bytes_in{0};    // payload bytes before / after compression
  Counter deflate_bytes_out{0};   // (of the frames that shrank)
  Counter rest_accepted{0};       // POST /broadcast/orderbook answered 200
  Counter rest_rejected{0};       // answered 4xx/5xx
  Counter http_requests{0};
};

// Counters of the hub thread; same rules, single writer.
struct alignas(64) HubStats {
  Counter updates_routed{0};      // books given a seq and fanned out
  Counter symbols{0};             // symbols with at least one subscriber (gauge)
  Counter batches{0};             // bulk dequeues that returned work
  Counter conflated{0};           // books replaced while their shard was backlogged
  Counter snapshots_rendered{0};  // snapshot frames rendered (one per book
                                  // that had a new subscriber after it)
  Counter queue_delay_ns{0};      // sum over routed books of the time they waited
                                  // in the queue (mean = this / updates_routed)
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_METRICS_GATEWAY_STATS_H_
