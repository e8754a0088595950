// The per-connection send queue (gateway::Outbox). A slow client's queue fills
// up, and from then on every book pushed to it takes a conflation path, on the
// shard thread that also serves every other client of that shard:
//  - ReplaceQueuedBook: queue full (64 books, 10 symbols), the new book takes
//    the place of the queued book of its symbol (the steady state of a slow
//    client);
//  - Conflate: queue full and the new book's symbol is not queued, so the
//    queue is rebuilt keeping the newest book per symbol (measured per
//    conflating push; refilling the queue is untimed);
//  - Push + Flush of 100 frames into a loopback socket whose peer drains it:
//    the fast-client path, one gather write per batch.
// Frames are rendered once up front, as the hub does; a Push copies the
// shared_ptr, as a shard does for each subscribed session. No Flush happens in
// the first two, so nothing is written.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "gateway/fanout/clock.h"
#include "gateway/fanout/frame.h"
#include "gateway/fanout/thread_affinity.h"
#include "gateway/fanout/update_frame.h"
#include "gateway/metrics/gateway_stats.h"
#include "gateway/ws/outbox.h"
#include "tests/bench/micro/bench_data.h"

namespace obgw::bench {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr std::size_t kMaxFrames = 64;
constexpr std::size_t kSymbolCount = 10;
constexpr std::size_t kFramesPerSymbol = 8;
constexpr std::string_view kTimestamp = "2024-05-01T13:45:07.123456+00:00";

// kFramesPerSymbol frames for each of `symbol_count` symbols, interleaved:
// frame i is of symbol i % symbol_count. Stamped with an arrival time like the
// hub's, so every completed write times each book (the latency histogram).
std::vector<gateway::FramePtr> MakeFrames(std::size_t symbol_count) {
  const std::vector<std::string> symbols = MakeSymbols(symbol_count);
  const std::string data = MakeBookData(10);
  const std::int64_t received_ns =
      std::chrono::steady_clock::now().time_since_epoch() / std::chrono::nanoseconds(1);
  std::vector<gateway::FramePtr> frames;
  for (std::size_t i = 0; i < symbol_count * kFramesPerSymbol; ++i) {
    frames.push_back(gateway::RenderUpdateFrame(symbols[i % symbol_count], i + 1, kTimestamp, data,
                                                {}, received_ns));
  }
  return frames;
}

// A connected loopback pair; the Outbox writes `server`, `client` is the peer.
struct SocketPair {
  SocketPair() : server(io), client(io) {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }
  asio::io_context io;
  tcp::socket server;
  tcp::socket client;
};

void BM_OutboxPushFullReplace(benchmark::State& state) {
  SocketPair sockets;
  gateway::ShardStats stats;
  gateway::ThreadAffinity thread;  // Unbound: the benchmark thread runs the Outbox.
  auto owner = std::make_shared<int>(0);
  gateway::PlainOutbox outbox(sockets.server, kMaxFrames, SIZE_MAX, stats, gateway::Clock::Steady(),
                              thread);
  outbox.SetOwner(owner);
  const std::vector<gateway::FramePtr> frames = MakeFrames(kSymbolCount);
  std::size_t next = 0;
  while (outbox.pending() < kMaxFrames) {
    outbox.Push(frames[next]);
    next = (next + 1) % frames.size();
  }
  for (auto _ : state) {
    outbox.Push(frames[next]);
    next = (next + 1) % frames.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["conflated"] = static_cast<double>(stats.messages_conflated.load());
  state.counters["dropped"] = static_cast<double>(stats.messages_dropped.load());
}
BENCHMARK(BM_OutboxPushFullReplace);

void BM_OutboxPushFullConflate(benchmark::State& state) {
  SocketPair sockets;
  gateway::ShardStats stats;
  gateway::ThreadAffinity thread;  // Unbound: the benchmark thread runs the Outbox.
  auto owner = std::make_shared<int>(0);
  // Symbols 0..9 fill the queue; symbol 10 is the one that is not queued.
  const std::vector<gateway::FramePtr> frames = MakeFrames(kSymbolCount + 1);
  std::vector<gateway::FramePtr> fill;
  gateway::FramePtr newcomer;
  for (const auto& frame : frames) {
    if (frame->symbol() == frames[kSymbolCount]->symbol()) {
      newcomer = frame;
    } else if (fill.size() < kMaxFrames) {
      fill.push_back(frame);
    }
  }
  std::optional<gateway::PlainOutbox> outbox;
  for (auto _ : state) {
    state.PauseTiming();
    outbox.emplace(sockets.server, kMaxFrames, SIZE_MAX, stats, gateway::Clock::Steady(), thread);
    outbox->SetOwner(owner);
    for (const auto& frame : fill) outbox->Push(frame);
    state.ResumeTiming();
    outbox->Push(newcomer);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["queued_after"] = static_cast<double>(outbox ? outbox->pending() : 0);
}
BENCHMARK(BM_OutboxPushFullConflate);

// Reads everything the Outbox writes, counting bytes, on the same io_context.
class Drain {
 public:
  explicit Drain(tcp::socket& socket) : socket_(socket), buffer_(1 << 16) { Read(); }
  std::uint64_t received() const { return received_; }

 private:
  void Read() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [this](boost::system::error_code ec, std::size_t bytes) {
                              if (ec) return;
                              received_ += bytes;
                              Read();
                            });
  }
  tcp::socket& socket_;
  std::vector<char> buffer_;
  std::uint64_t received_ = 0;
};

void BM_OutboxPushFlush100(benchmark::State& state) {
  constexpr std::size_t kFramesPerFlush = 100;
  SocketPair sockets;
  gateway::ShardStats stats;
  gateway::ThreadAffinity thread;  // Unbound: the benchmark thread runs the Outbox.
  auto owner = std::make_shared<int>(0);
  // Room for the whole batch: this is the fast client, nothing conflates.
  gateway::PlainOutbox outbox(sockets.server, 2 * kFramesPerFlush, SIZE_MAX, stats,
                              gateway::Clock::Steady(), thread);
  outbox.SetOwner(owner);
  const std::vector<gateway::FramePtr> frames = MakeFrames(kSymbolCount);
  std::uint64_t batch_bytes = 0;
  for (std::size_t i = 0; i < kFramesPerFlush; ++i) {
    batch_bytes += frames[i % frames.size()]->wire().size();
  }
  Drain drain(sockets.client);
  std::uint64_t expected = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kFramesPerFlush; ++i) outbox.Push(frames[i % frames.size()]);
    outbox.Flush();
    expected += batch_bytes;
    // Until the peer has it all and the Outbox's write has completed.
    while (drain.received() < expected || stats.bytes_sent.load() < expected) {
      sockets.io.run_one();
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kFramesPerFlush));
  state.SetBytesProcessed(static_cast<std::int64_t>(expected));
  state.counters["frames_per_write"] =
      static_cast<double>(stats.messages_sent.load()) /
      static_cast<double>(stats.socket_writes.load() == 0 ? 1 : stats.socket_writes.load());
}
BENCHMARK(BM_OutboxPushFlush100);

}  // namespace
}  // namespace obgw::bench
