#ifndef OBGW_TESTS_BENCH_LOADGEN_SUBSCRIBER_POOL_H_
#define OBGW_TESTS_BENCH_LOADGEN_SUBSCRIBER_POOL_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "latency_recorder.h"

namespace obgw::loadgen {

// N WebSocket clients of the legacy protocol on one thread: each connects to
// /ws/lg-<i>, subscribes to its symbols, then counts every orderbook_update
// and records its end-to-end latency from the book's send_time_ns.
//
// Owns the clients, their io_context and thread. Counters are atomics read by
// the main thread; the latency samples are read after Stop().
class SubscriberPool {
 public:
  SubscriberPool(std::string host, std::uint16_t port,
                 std::vector<std::vector<std::string>> symbols_per_client);
  ~SubscriberPool();

  // Connects every client (at most `window` handshakes in flight) and waits
  // until each connected one has every subscription confirmed. False on
  // timeout or when any client failed to connect (see connected()).
  bool ConnectAll(std::chrono::seconds timeout, std::size_t window = 256);

  std::uint64_t received() const { return received_.load(std::memory_order_relaxed); }
  std::uint64_t connected() const { return connected_.load(std::memory_order_relaxed); }
  std::uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  // Stops the thread; afterwards latencies() may be read.
  void Stop();
  LatencyRecorder& latencies() { return latencies_; }

 private:
  class Client;

  void StartNext();
  void OnConfirmed();
  void OnMessage(std::string_view text);

  std::string host_;
  std::uint16_t port_;
  std::vector<std::vector<std::string>> plan_;
  boost::asio::io_context io_context_{1};
  std::vector<std::shared_ptr<Client>> clients_;
  std::size_t next_client_ = 0;
  std::atomic<std::uint64_t> confirmations_due_{0};  // Of the connected clients.
  std::atomic<std::uint64_t> confirmed_{0};
  std::atomic<std::uint64_t> connected_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::atomic<std::uint64_t> received_{0};
  LatencyRecorder latencies_;
  std::thread thread_;
};

}  // namespace obgw::loadgen

#endif  // OBGW_TESTS_BENCH_LOADGEN_SUBSCRIBER_POOL_H_
