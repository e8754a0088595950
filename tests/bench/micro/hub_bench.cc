// Hub routing (gateway::Hub::RunOnce), driven without its thread: bulk
// dequeue, seq (one call to the in-process broker), render the frame once,
// hand one batch per shard per dequeue.
// The hub is the gateway's single sequencer, so its updates/s is the ceiling
// for the whole process. Subscribers sit on 2 shards for each of 10 symbols;
// Dispatch only counts. Each iteration queues 512 books (untimed: the queue
// has its own benchmark) and times RunOnce until they are all routed.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "gateway/cluster/in_process_broker.h"
#include "gateway/fanout/book_update.h"
#include "gateway/fanout/frame.h"
#include "gateway/fanout/hub.h"
#include "gateway/fanout/update_queue.h"
#include "gateway/metrics/gateway_stats.h"
#include "tests/bench/micro/bench_data.h"

namespace obgw::bench {
namespace {

constexpr std::size_t kUpdatesPerIteration = 512;
constexpr std::size_t kSymbolCount = 10;
constexpr std::uint32_t kShardCount = 2;

void BM_HubRoute(benchmark::State& state) {
  gateway::UpdateQueue queue(std::size_t{1} << 30);
  gateway::UpdateQueue::Token token = queue.MakeToken();
  gateway::HubStats stats;
  std::uint64_t frames_dispatched = 0;
  std::uint64_t batches_dispatched = 0;
  gateway::InProcessBroker broker(/*epoch=*/1);
  gateway::Hub hub(
      queue, kShardCount, broker,
      [&](std::uint32_t shard, std::vector<gateway::FramePtr> frames, std::size_t deliveries) {
        frames_dispatched += frames.size();
        ++batches_dispatched;
        hub.BatchDelivered(shard, deliveries);
      },
      stats);

  const std::vector<std::string> symbols = MakeSymbols(kSymbolCount);
  for (const std::string& symbol : symbols) {
    for (std::uint32_t shard = 0; shard < kShardCount; ++shard) {
      queue.PushControl(token, gateway::SubscriptionChange{shard, symbol, +1, nullptr});
    }
  }
  while (hub.RunOnce(std::chrono::microseconds(0)) > 0) {
  }

  const std::string data = MakeBookData(10);
  // stamped:1 stamps each book like a real producer, so the hub also reads
  // the clock and records its queue wait (the production path); stamped:0 is
  // the routing alone, comparable with builds that had no such histogram.
  const bool stamped = state.range(0) != 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (std::size_t i = 0; i < kUpdatesPerIteration; ++i) {
      gateway::BookUpdate update;
      update.symbol = symbols[i % kSymbolCount];
      update.data = data;
      if (stamped) {
        update.received_ns =
            std::chrono::steady_clock::now().time_since_epoch() / std::chrono::nanoseconds(1);
      }
      queue.PushUpdate(token, std::move(update));
    }
    state.ResumeTiming();
    std::size_t routed = 0;
    while (routed < kUpdatesPerIteration) routed += hub.RunOnce(std::chrono::microseconds(0));
  }
  const auto updates = state.iterations() * static_cast<std::int64_t>(kUpdatesPerIteration);
  state.SetItemsProcessed(updates);
  state.counters["frames_per_update"] =
      static_cast<double>(frames_dispatched) / static_cast<double>(updates);
  state.counters["dispatch_batches"] =
      benchmark::Counter(static_cast<double>(batches_dispatched), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_HubRoute)->ArgName("stamped")->Arg(0)->Arg(1);

}  // namespace
}  // namespace obgw::bench
