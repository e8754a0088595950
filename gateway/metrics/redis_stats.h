#ifndef OBGW_GATEWAY_METRICS_REDIS_STATS_H_
#define OBGW_GATEWAY_METRICS_REDIS_STATS_H_

#include <atomic>
#include <cstdint>

#include "gateway/metrics/histogram.h"
#include "gateway/metrics/stat_declaration.h"

// The stats of a node's Redis cluster (gateway/redis), declared once, in the
// shape of gateway_stats.h: the struct below, GET /stats (under "redis") and
// GET /metrics all come from these lists.

// COUNTER/GAUGE(member, /stats name, Prometheus family, labels, help)
#define OBGW_REDIS_STATS(COUNTER, GAUGE)                                                         \
  GAUGE(connections_up, "redis.connections_up", "redis_connections_up", "",                      \
        "Redis connections up (commands and pubsub: 2 when healthy)")                            \
  COUNTER(connects, "redis.connects", "redis_connects", "",                                      \
          "Redis connections established (handshake done), reconnects included")                 \
  COUNTER(disconnects, "redis.disconnects", "redis_disconnects", "",                             \
          "Redis connections lost or torn down after being up")                                  \
  COUNTER(connect_failures, "redis.connect_failures", "redis_connect_failures", "",              \
          "Redis connection attempts that failed or timed out")                                  \
  COUNTER(commands, "redis.commands", "redis_commands", "", "Redis commands sent")               \
  COUNTER(errors, "redis.errors", "redis_error_replies", "", "Redis error replies")              \
  COUNTER(bad_replies, "redis.bad_replies", "redis_bad_replies", "",                             \
          "Redis replies or messages of an unexpected shape, dropped")                           \
  COUNTER(timeouts, "redis.timeouts", "redis_timeouts", "",                                      \
          "Redis connections torn down because a command went unanswered too long")              \
  COUNTER(noscript, "redis.noscript", "redis_noscript", "",                                      \
          "EVALSHA answered NOSCRIPT and sent again as EVAL")                                    \
  GAUGE(channels, "redis.subscribed_channels", "redis_subscribed_channels", "",                  \
        "Pub/sub channels this node is subscribed to")                                           \
  COUNTER(books_published, "redis.books_published", "cluster_books_published", "",               \
          "Books this node ordered through Redis (the script's reply came back)")                \
  COUNTER(books_received, "redis.books_received", "cluster_books_received", "",                  \
          "Books other nodes published, received over pub/sub")                                  \
  COUNTER(books_fetched, "redis.books_fetched", "cluster_books_fetched", "",                     \
          "Last books read from Redis when a symbol is followed or after a reconnect")           \
  COUNTER(books_sequenced_locally, "redis.books_sequenced_locally",                              \
          "cluster_books_sequenced_locally", "",                                                 \
          "Books this node ordered itself because Redis was down")                               \
  COUNTER(books_retried, "redis.books_retried", "cluster_books_retried", "",                     \
          "Books handed back to the hub because Redis did not order them")                       \
  COUNTER(broker_conflated, "redis.broker_conflated", "cluster_broker_conflated", "",            \
          "Books replaced, while waiting to be sent to Redis, by a newer book of their symbol")  \
  COUNTER(books_over_high_water, "redis.books_over_high_water", "cluster_books_over_high_water", \
          "", "Books from Redis queued while the hub's queue was over its high-water mark")

// HISTOGRAM(member, type, unit, /stats name of the sum or "", family, help)
#define OBGW_REDIS_HISTOGRAMS(HISTOGRAM)                                                  \
  HISTOGRAM(publish_round_trip, ::obgw::gateway::RedisLatencyHistogram, kNanoseconds, "", \
            "cluster_publish_round_trip_seconds",                                         \
            "Time from a book's hand-off to the broker (Sequence) to the script's reply") \
  HISTOGRAM(cross_node_lag, ::obgw::gateway::RedisLatencyHistogram, kNanoseconds, "",     \
            "cluster_cross_node_lag_seconds",                                             \
            "Time from another node's publish (its clock, in the message) to this node's receipt")

namespace obgw::gateway {

// 10 us to 10.5 s (ns).
using RedisLatencyHistogram = ExponentialHistogram<10'000, 21>;

// Stats of one node's Redis cluster. Counters are atomic (the hub thread
// counts books_sequenced_locally, the Redis thread the rest); each histogram
// has a single writer, the Redis thread.
struct alignas(64) RedisStats {
  OBGW_REDIS_STATS(OBGW_STAT_MEMBER, OBGW_STAT_MEMBER)
  OBGW_REDIS_HISTOGRAMS(OBGW_HISTOGRAM_MEMBER)
};

inline constexpr auto kRedisStatFields = OBGW_DESCRIBE_STATS(RedisStats, OBGW_REDIS_STATS);
inline constexpr auto kRedisHistogramFields =
    OBGW_DESCRIBE_HISTOGRAMS(RedisStats, OBGW_REDIS_HISTOGRAMS);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_METRICS_REDIS_STATS_H_
