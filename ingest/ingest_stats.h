#ifndef OBGW_INGEST_INGEST_STATS_H_
#define OBGW_INGEST_INGEST_STATS_H_

#include <atomic>
#include <cstdint>

namespace obgw::ingest {

// The gRPC ingest's stats, in the stat-list shape of the gateway's
// (gateway/metrics/stat_declaration.h; ingest may not include it, so the
// shape is repeated, not the names): COUNTER/GAUGE(member, /stats name,
// Prometheus family, labels, help). main.cc hands the list to the gateway,
// which shows it in /stats and /metrics.
#define OBGW_INGEST_STATS(COUNTER, GAUGE)                                                 \
  GAUGE(streams_open, "ingest.grpc_streams_open", "ingest_grpc_streams_open", "",         \
        "Open gRPC Publish and PublishBatch streams")                                     \
  COUNTER(streams_total, "ingest.grpc_streams_total", "ingest_grpc_streams_opened", "",   \
          "gRPC Publish and PublishBatch streams ever opened")                            \
  COUNTER(accepted, "ingest.grpc_accepted", "ingest_books_accepted", "source=\"grpc\"",   \
          "gRPC books validated and queued")                                              \
  COUNTER(rejected, "ingest.grpc_rejected", "ingest_books_rejected", "source=\"grpc\"",   \
          "gRPC books that failed validation")                                            \
  COUNTER(batches, "ingest.grpc_batches", "ingest_grpc_batches", "",                      \
          "gRPC PublishBatch messages received (their books count in accepted/rejected)") \
  COUNTER(paused, "ingest.grpc_paused", "ingest_grpc_pauses", "",                         \
          "Times a stream stopped reading because the queue reached queue_high_water")    \
  /* Publisher auth (issue 11, pubauth). */                                               \
  COUNTER(unauthenticated, "ingest.grpc_unauthenticated", "ingest_publish_unauthorized",  \
          "source=\"grpc\"",                                                              \
          "Publishes refused for a missing or wrong publish token (--publish_tokens; "    \
          "REST 401, gRPC UNAUTHENTICATED), by source")

// Stats of the gRPC ingest, shared by every PublishReactor. Owned by
// whoever wires the gateway together (main.cc) and outliving the IngestServer;
// written from gRPC callback threads and read by /stats and /metrics from any
// thread. Every access is relaxed: these are independent statistics, never
// used to synchronise anything. streams_open is a gauge (+1 when a stream
// starts, -1 when done); paused counts flow control pushing back on a backend.
struct IngestStats {
#define OBGW_INGEST_STAT_MEMBER(member, json_name, metric, labels, help) \
  std::atomic<std::uint64_t> member{0};
  OBGW_INGEST_STATS(OBGW_INGEST_STAT_MEMBER, OBGW_INGEST_STAT_MEMBER)
#undef OBGW_INGEST_STAT_MEMBER
};

}  // namespace obgw::ingest

#endif  // OBGW_INGEST_INGEST_STATS_H_
