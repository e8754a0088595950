#ifndef OBGW_TESTS_BENCH_LOADGEN_PUBLISHER_H_
#define OBGW_TESTS_BENCH_LOADGEN_PUBLISHER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace obgw::loadgen {

// What every publisher is told and what it reports.
struct PublishPlan {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::size_t publishers = 1;  // keep-alive HTTP connections or gRPC streams
  double rate = 0;             // books/s over all publishers; 0 = flat out
  std::size_t symbols = 10;    // publisher p sends symbols p, p+P, p+2P, ... mod S
  std::size_t levels = 10;
  std::chrono::duration<double> duration{10};
  // gRPC only: 0 writes one book per Publish message; N > 0 opens
  // PublishBatch streams instead and writes N books per OrderBookBatch.
  std::size_t batch_size = 0;
  // The gateway's publish token (--publish_token / $PUBLISH_TOKEN): sent as
  // Authorization: Bearer (HTTP) or authorization metadata (gRPC) when not
  // empty.
  std::string publish_token;
};

struct PublishCounters {
  // Books the server accepted, per symbol index (sized by the caller).
  std::vector<std::atomic<std::uint64_t>> accepted_per_symbol;
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};  // non-200 replies, rejected gRPC updates
  std::atomic<std::uint64_t> errors{0};    // connection or RPC failures

  explicit PublishCounters(std::size_t symbols) : accepted_per_symbol(symbols) {}
};

// When publisher `index` of a paced plan sends its first book, after the
// common start: index / rate, so the publishers' sends interleave evenly
// (the offered load arrives as one book every 1/rate s, not as bursts of
// `publishers` books every publishers/rate s, which would add the burst's own
// fan-out time to the age of its books). Zero when flat out.
inline std::chrono::nanoseconds FirstSendOffset(const PublishPlan& plan, std::size_t index) {
  if (plan.rate <= 0) return std::chrono::nanoseconds(0);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(static_cast<double>(index) / plan.rate));
}

// Sends books over keep-alive POST /broadcast/orderbook connections until
// the plan's duration has passed; blocks. One thread, async I/O.
void PublishHttp(const PublishPlan& plan, PublishCounters& counters);

// Same over gRPC Publish streams (PublishBatch with plan.batch_size > 0), one
// thread per stream.
void PublishGrpc(const PublishPlan& plan, PublishCounters& counters);

}  // namespace obgw::loadgen

#endif  // OBGW_TESTS_BENCH_LOADGEN_PUBLISHER_H_
