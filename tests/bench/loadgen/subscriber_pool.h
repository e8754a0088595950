#ifndef OBGW_TESTS_BENCH_LOADGEN_SUBSCRIBER_POOL_H_
#define OBGW_TESTS_BENCH_LOADGEN_SUBSCRIBER_POOL_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <absl/base/thread_annotations.h>
#include <zlib.h>
#include <boost/asio/io_context.hpp>
#include "gateway/fanout/mutex.h"

#include "latency_recorder.h"

namespace obgw::loadgen {

// N WebSocket clients of the legacy protocol on `threads` reader threads
// (clients dealt round-robin, each thread with its own io_context and latency
// samples, so nothing is shared on the read path): each connects to
// /ws/lg-<i>, subscribes to its symbols, then counts every orderbook_update
// and records its end-to-end latency from the book's send_time_ns.
//
// Owns the clients, the reader threads and their io_contexts. Counters are
// atomics read by the main thread; the latency samples are merged at Stop().
class SubscriberPool {
 public:
  // `deflate`: offer permessage-deflate and inflate compressed frames (as a
  // browser would), to measure what compression costs and saves.
  SubscriberPool(std::string host, std::uint16_t port,
                 std::vector<std::vector<std::string>> symbols_per_client, std::size_t threads,
                 bool deflate = false);
  ~SubscriberPool();

  // Connects every client (at most `window` handshakes in flight) and waits
  // until each connected one has every subscription confirmed. False on
  // timeout or when any client failed to connect (see connected()).
  bool ConnectAll(std::chrono::seconds timeout, std::size_t window = 256);

  std::uint64_t received() const { return received_.load(std::memory_order_relaxed); }
  std::uint64_t connected() const { return connected_.load(std::memory_order_relaxed); }
  std::uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  // Clients whose handshake negotiated permessage-deflate.
  std::uint64_t deflate_negotiated() const { return deflate_negotiated_.load(); }
  // Bytes read off the sockets (compressed, with frame headers).
  std::uint64_t wire_bytes() const { return wire_bytes_.load(std::memory_order_relaxed); }
  // Stops the threads and merges their samples into latencies().
  void Stop();
  LatencyRecorder& latencies() { return latencies_; }

 private:
  class Client;

  // One reader thread's world.
  struct Reader {
    Reader();
    ~Reader();
    // Inflates one permessage-deflate payload (no context takeover) into
    // `inflated`; false if it is corrupt.
    bool Inflate(std::string_view payload);

    boost::asio::io_context io_context{1};
    LatencyRecorder latencies;
    std::thread thread;
    z_stream zstream{};
    std::string inflated;
  };

  // Starts the next client of the plan, if any (any reader thread).
  void StartNext();
  void OnMessage(Reader& reader, std::string_view text);

  std::string host_;
  std::uint16_t port_;
  std::vector<std::vector<std::string>> plan_;
  std::vector<std::unique_ptr<Reader>> readers_;
  gateway::Mutex start_mutex_;  // Taken in the connect phase only.
  std::vector<std::shared_ptr<Client>> clients_ ABSL_GUARDED_BY(start_mutex_);
  std::size_t next_client_ ABSL_GUARDED_BY(start_mutex_) = 0;
  std::atomic<std::uint64_t> confirmations_due_{0};  // Of the connected clients.
  std::atomic<std::uint64_t> confirmed_{0};
  std::atomic<std::uint64_t> connected_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::atomic<std::uint64_t> received_{0};
  const bool deflate_;
  std::atomic<std::uint64_t> deflate_negotiated_{0};
  std::atomic<std::uint64_t> wire_bytes_{0};
  LatencyRecorder latencies_;  // Merged at Stop().
};

}  // namespace obgw::loadgen

#endif  // OBGW_TESTS_BENCH_LOADGEN_SUBSCRIBER_POOL_H_
