#ifndef OBGW_GATEWAY_METRICS_GATEWAY_STATS_H_
#define OBGW_GATEWAY_METRICS_GATEWAY_STATS_H_

#include <atomic>
#include <cstdint>

#include "gateway/metrics/histogram.h"
#include "gateway/metrics/stat_declaration.h"

// Every counter and gauge of the gateway, declared once (the list shapes are
// in stat_declaration.h and histogram.h): the struct members below, GET
// /stats and GET /metrics all come from these lists.

// Per I/O shard; /stats sums the shards, /metrics labels them shard="N".
// COUNTER/GAUGE(member, /stats name, Prometheus family, labels, help)
#define OBGW_SHARD_STATS(COUNTER, GAUGE)                                                           \
  GAUGE(connections, "active_connections", "ws_connections", "",                                   \
        "Open WebSocket connections (handshake completed)")                                        \
  GAUGE(subscriptions, "total_subscriptions", "ws_subscriptions", "",                              \
        "Live (connection, symbol) subscriptions")                                                 \
  COUNTER(messages_sent, "messages_sent", "ws_messages_sent", "",                                  \
          "WebSocket messages handed to socket writes: books, snapshots, replies, pings")          \
  COUNTER(connections_total, "connections_total", "ws_connections_accepted", "",                   \
          "WebSocket connections ever accepted, refused ones included")                            \
  COUNTER(messages_dropped, "messages_dropped", "ws_messages_dropped", "",                         \
          "Books dropped from full connection queues or discarded with a slow consumer")           \
  COUNTER(messages_conflated, "messages_conflated", "ws_messages_conflated", "",                   \
          "Queued books replaced by a newer book of the same symbol")                              \
  COUNTER(messages_conflated_age, "session_conflated_age", "ws_session_conflated_age", "",         \
          "Queued books replaced by a newer book of the same symbol because the connection's "     \
          "oldest queued book waited longer than --session_queue_max_age_ms")                      \
  COUNTER(socket_writes, "socket_writes", "ws_socket_writes", "",                                  \
          "Gather writes to WebSocket sockets")                                                    \
  COUNTER(socket_buffer_full, "socket_buffer_full", "ws_socket_buffer_full", "",                   \
          "WebSocket writes the kernel took only partly (send buffer full): the rest waits in "    \
          "the connection's queue, where a newer book can still replace it")                       \
  COUNTER(bytes_sent, "bytes_sent", "ws_sent_bytes", "",                                           \
          "Bytes written to WebSocket connections, as sent")                                       \
  COUNTER(ws_errors, "ws_errors", "ws_error_replies", "",                                          \
          "Error messages sent to WebSocket clients")                                              \
  COUNTER(ws_closed_too_big, "ws_closed_too_big", "ws_closed", "reason=\"message_too_big\"",       \
          "WebSocket connections the gateway closed, by reason (message_too_big: 1009)")           \
  COUNTER(ws_closed_slow, "ws_closed_slow_consumer", "ws_closed", "reason=\"slow_consumer\"",      \
          "Connections closed with 1008 slow consumer")                                            \
  COUNTER(ws_closed_idle, "ws_closed_idle", "ws_closed", "reason=\"idle_timeout\"",                \
          "Connections closed with 1008 idle timeout")                                             \
  COUNTER(ws_closed_limit, "ws_refused_connection_limit", "ws_closed",                             \
          "reason=\"connection_limit\"",                                                           \
          "Connections refused by a connection limit (1008 per client_id, 1013 per node)")         \
  COUNTER(ws_refused_origin, "ws_refused_origin", "ws_refused_origin", "",                         \
          "WebSocket upgrades refused with 403 for their Origin (--allowed_origins)")              \
  COUNTER(ws_closed_rate, "ws_closed_rate_limit", "ws_closed", "reason=\"rate_limit\"",            \
          "Connections closed with 1008 rate limit exceeded")                                      \
  COUNTER(ws_closed_unread, "ws_closed_unread_replies", "ws_closed", "reason=\"unread_replies\"",  \
          "Connections closed with 1008 too many unread replies")                                  \
  COUNTER(ws_rate_limited, "ws_rate_limited", "ws_rate_limited_messages", "",                      \
          "Client messages refused by the rate limit")                                             \
  COUNTER(ws_pings_sent, "ws_pings_sent", "ws_pings_sent", "", "Heartbeat pings sent")             \
  COUNTER(snapshots_sent, "snapshots_sent", "ws_snapshots_sent", "",                               \
          "Snapshots queued to new subscriptions")                                                 \
  COUNTER(sessions_restored, "sessions_restored", "ws_sessions_restored", "",                      \
          "Connections that got their client_id's session back (session_restored)")                \
  COUNTER(symbols_restored, "symbols_restored", "ws_symbols_restored", "",                         \
          "Symbols subscribed by restored sessions")                                               \
  COUNTER(messages_throttled, "messages_throttled", "ws_messages_throttled", "",                   \
          "Books replaced while waiting in a client's throttle_ms")                                \
  COUNTER(frames_deflated, "frames_deflated", "ws_frames_deflated", "",                            \
          "Frames compressed for permessage-deflate, normally once per frame")                     \
  COUNTER(deflate_bytes_in, "deflate_bytes_in", "ws_deflate_input_bytes", "",                      \
          "Payload bytes before compression, of the frames that shrank")                           \
  COUNTER(deflate_bytes_out, "deflate_bytes_out", "ws_deflate_output_bytes", "",                   \
          "Payload bytes after compression, of the frames that shrank")                            \
  COUNTER(http_requests, "http_requests", "http_requests", "",                                     \
          "Well-formed HTTP requests, WebSocket upgrades included")                                \
  COUNTER(rest_accepted, "ingest.rest_accepted", "ingest_books_accepted", "source=\"rest\"",       \
          "Books accepted by the ingest, by source")                                               \
  COUNTER(rest_rejected, "ingest.rest_rejected", "ingest_books_rejected", "source=\"rest\"",       \
          "Books rejected by the ingest, by source")                                               \
  /* Browser authentication (issue 11, JWT: gateway/auth, gateway/ws/session_auth.h). */           \
  COUNTER(ws_auth_accepted, "auth_accepted", "ws_auth_accepted", "",                               \
          "Browser tokens accepted (?token= upgrades, auth messages and refreshes)")               \
  COUNTER(ws_auth_rejected_malformed, "auth_rejected_malformed", "ws_auth_rejected",               \
          "reason=\"token_malformed\"",                                                            \
          "Browser tokens refused (HTTP 401 or an auth message answered and closed), by reason")   \
  COUNTER(ws_auth_rejected_wrong_algorithm, "auth_rejected_wrong_algorithm", "ws_auth_rejected",   \
          "reason=\"token_wrong_algorithm\"", "Browser tokens refused, by reason")                 \
  COUNTER(ws_auth_rejected_bad_signature, "auth_rejected_bad_signature", "ws_auth_rejected",       \
          "reason=\"token_bad_signature\"", "Browser tokens refused, by reason")                   \
  COUNTER(ws_auth_rejected_expired, "auth_rejected_expired", "ws_auth_rejected",                   \
          "reason=\"token_expired\"", "Browser tokens refused, by reason")                         \
  COUNTER(ws_auth_rejected_not_yet_valid, "auth_rejected_not_yet_valid", "ws_auth_rejected",       \
          "reason=\"token_not_yet_valid\"", "Browser tokens refused, by reason")                   \
  COUNTER(ws_auth_rejected_missing_sub, "auth_rejected_missing_sub", "ws_auth_rejected",           \
          "reason=\"token_missing_sub\"", "Browser tokens refused, by reason")                     \
  COUNTER(ws_auth_rejected_bad_claims, "auth_rejected_bad_claims", "ws_auth_rejected",             \
          "reason=\"token_bad_claims\"", "Browser tokens refused, by reason")                      \
  COUNTER(ws_auth_rejected_wrong_sub, "auth_rejected_wrong_sub", "ws_auth_rejected",               \
          "reason=\"token_wrong_sub\"", "Browser tokens refused, by reason")                       \
  COUNTER(ws_auth_rejected_unknown_key, "auth_rejected_unknown_key", "ws_auth_rejected",           \
          "reason=\"token_unknown_key\"", "Browser tokens refused, by reason")                     \
  COUNTER(ws_auth_unauthenticated, "auth_unauthenticated", "ws_auth_unauthenticated_messages", "", \
          "Client messages answered unauthenticated: sent before a valid auth message")            \
  COUNTER(ws_auth_forbidden, "auth_forbidden_symbols", "ws_auth_forbidden_symbols", "",            \
          "Subscribed symbols answered forbidden: outside the token's symbols claim")              \
  COUNTER(ws_closed_auth_rejected, "ws_closed_auth_rejected", "ws_closed",                         \
          "reason=\"auth_rejected\"", "Connections closed with 1008 after a refused auth message") \
  COUNTER(ws_closed_auth_timeout, "ws_closed_auth_timeout", "ws_closed",                           \
          "reason=\"auth_timeout\"",                                                               \
          "Connections closed with 1008 auth timeout: no valid auth message within "               \
          "--auth_timeout_ms")                                                                     \
  COUNTER(ws_closed_token_expired, "ws_closed_token_expired", "ws_closed",                         \
          "reason=\"token_expired\"",                                                              \
          "Connections closed with 1008 token expired: exp plus leeway passed, no refresh")        \
  /* Publisher auth and per-IP connection rate limit (issue 11, pubauth). */                       \
  COUNTER(rest_unauthorized, "ingest.rest_unauthorized", "ingest_publish_unauthorized",            \
          "source=\"rest\"",                                                                       \
          "Publishes refused for a missing or wrong publish token (--publish_tokens; REST 401, "   \
          "gRPC UNAUTHENTICATED), by source")                                                      \
  COUNTER(connections_refused_rate, "connections_refused_rate", "connections_refused_rate", "",    \
          "TCP connections closed at accept, before any HTTP or TLS work, because their peer "     \
          "IP opened more than --connection_rate_per_ip")                                          \
  /* TLS on the HTTP port (issue 11). */                                                           \
  COUNTER(tls_handshakes, "tls_handshakes", "tls_handshakes", "result=\"ok\"",                     \
          "TLS handshakes on the HTTP port, by result")                                            \
  COUNTER(tls_handshake_failed, "tls_handshake_failed", "tls_handshakes", "result=\"failed\"",     \
          "TLS handshakes that failed: a plaintext client, no shared version or cipher, a bad "    \
          "record")                                                                                \
  COUNTER(tls_handshake_timeout, "tls_handshake_timeout", "tls_handshakes", "result=\"timeout\"",  \
          "TLS handshakes not done within --tls_handshake_timeout_ms (silent or slow clients)")

// HISTOGRAM(member, type, unit, /stats name of the sum or "", family, help)
#define OBGW_SHARD_HISTOGRAMS(HISTOGRAM)                                                   \
  HISTOGRAM(delivery_latency, ::obgw::gateway::DeliveryLatencyHistogram, kNanoseconds, "", \
            "ws_delivery_latency_seconds",                                                 \
            "Time from a book's arrival (REST or gRPC) to the end of the socket write "    \
            "carrying it, per delivered book")                                             \
  HISTOGRAM(frames_per_write, ::obgw::gateway::FramesPerWriteHistogram, kCount, "",        \
            "ws_frames_per_write", "WebSocket messages carried by one socket write")

// The hub thread's; a single instance.
#define OBGW_HUB_STATS(COUNTER, GAUGE)                                                   \
  COUNTER(updates_routed, "updates_routed", "hub_updates_routed", "",                    \
          "Books sequenced by the hub, with or without subscribers")                     \
  GAUGE(symbols, "symbols", "hub_symbols", "", "Symbols with at least one subscriber")   \
  COUNTER(batches, "hub_batches", "hub_batches", "", "Hub dequeues that returned work")  \
  COUNTER(conflated, "hub_conflated", "hub_conflated", "",                               \
          "Books replaced in the hub while their I/O thread was backlogged")             \
  COUNTER(conflated_in_batch, "hub_conflated_in_batch", "hub_conflated_in_batch", "",    \
          "Books never rendered: a newer book of the symbol followed in the same batch " \
          "while the hub was behind")                                                    \
  COUNTER(snapshots_rendered, "hub_snapshots_rendered", "hub_snapshots_rendered", "",    \
          "Snapshot frames rendered, at most one per published book")                    \
  COUNTER(stale_dropped, "hub_stale_dropped", "hub_stale_dropped", "",                   \
          "Books from the cluster dropped: a duplicate or older than the last routed")   \
  COUNTER(superseded, "hub_superseded", "hub_superseded", "",                            \
          "Books of this node dropped because a later book of this node was routed")

#define OBGW_HUB_HISTOGRAMS(HISTOGRAM)                                       \
  HISTOGRAM(queue_delay, ::obgw::gateway::QueueDelayHistogram, kNanoseconds, \
            "queue_delay_ns_total", "hub_queue_delay_seconds",               \
            "Time a routed book waited in the queue between its arrival and the hub")

namespace obgw::gateway {

// 10 us to 10.5 s (ns).
using DeliveryLatencyHistogram = ExponentialHistogram<10'000, 21>;
// 1 us to 1.05 s (ns).
using QueueDelayHistogram = ExponentialHistogram<1'000, 21>;
// 1 to 512 (the Outbox's gather writes carry at most 64).
using FramesPerWriteHistogram = ExponentialHistogram<1, 10>;

// Stats of one I/O shard. Written only by that shard's thread (relaxed,
// uncontended: each shard has its own cache lines); read by /stats and
// /metrics from any shard.
struct alignas(64) ShardStats {
  OBGW_SHARD_STATS(OBGW_STAT_MEMBER, OBGW_STAT_MEMBER)
  OBGW_SHARD_HISTOGRAMS(OBGW_HISTOGRAM_MEMBER)
};

// Stats of the hub thread; same rules, single writer.
struct alignas(64) HubStats {
  OBGW_HUB_STATS(OBGW_STAT_MEMBER, OBGW_STAT_MEMBER)
  OBGW_HUB_HISTOGRAMS(OBGW_HISTOGRAM_MEMBER)
};

inline constexpr auto kShardStatFields = OBGW_DESCRIBE_STATS(ShardStats, OBGW_SHARD_STATS);
inline constexpr auto kShardHistogramFields =
    OBGW_DESCRIBE_HISTOGRAMS(ShardStats, OBGW_SHARD_HISTOGRAMS);
inline constexpr auto kHubStatFields = OBGW_DESCRIBE_STATS(HubStats, OBGW_HUB_STATS);
inline constexpr auto kHubHistogramFields = OBGW_DESCRIBE_HISTOGRAMS(HubStats, OBGW_HUB_HISTOGRAMS);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_METRICS_GATEWAY_STATS_H_
