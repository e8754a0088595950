#ifndef OBGW_INGEST_INGEST_STATS_H_
#define OBGW_INGEST_INGEST_STATS_H_

#include <atomic>
#include <cstdint>

namespace obgw::ingest {

// Counters of the gRPC ingest, shared by every PublishReactor. Owned by
// whoever wires the gateway together (main.cc) and outliving the IngestServer;
// written from gRPC callback threads and read by /stats and /metrics from any
// thread. Every access is relaxed: these are independent statistics, never
// used to synchronise anything.
struct IngestStats {
  // Streams currently open (a gauge: +1 when a stream starts, -1 when done).
  std::atomic<std::uint64_t> streams_open{0};
  // Streams ever opened.
  std::atomic<std::uint64_t> streams_total{0};
  // Updates that passed validation and were handed to the queue.
  std::atomic<std::uint64_t> accepted{0};
  // Updates that failed validation and were dropped.
  std::atomic<std::uint64_t> rejected{0};
  // Times a stream stopped reading because the queue was over its high-water
  // mark (flow control pushing back on a backend).
  std::atomic<std::uint64_t> paused{0};
};

}  // namespace obgw::ingest

#endif  // OBGW_INGEST_INGEST_STATS_H_
