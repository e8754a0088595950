// The producer -> hub hand-off (gateway::UpdateQueue, moodycamel underneath).
// Every book crosses it once, so its per-message cost is a floor under the
// gateway's updates/s. Two shapes:
//  - in-thread: push a batch of 512 (the hub's bulk size), pop it in bulk;
//    books are moved in and back out of a pool, so no allocation is measured,
//    only the queue itself;
//  - two threads: this thread produces, a std::thread consumes with PopBulk as
//    the hub does; the producer keeps at most kWindow messages in flight, so
//    memory stays bounded and every run ends fully drained. Arg payload:0
//    sends an empty book (queue cost only), payload:1 a freshly copied 10-level
//    book, as a gRPC reactor hands over a newly rendered string.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <benchmark/benchmark.h>

#include "gateway/fanout/book_update.h"
#include "gateway/fanout/update_queue.h"
#include "tests/bench/micro/bench_data.h"

namespace obgw::bench {
namespace {

constexpr std::size_t kBatch = 512;
// No pause signal during the benchmark: far above anything queued here.
constexpr std::size_t kHighWater = std::size_t{1} << 30;
// Messages the two-thread producer may have queued but not yet consumed.
constexpr std::uint64_t kWindow = 8192;

void BM_UpdateQueuePushPopInThread(benchmark::State& state) {
  gateway::UpdateQueue queue(kHighWater);
  gateway::UpdateQueue::Token token = queue.MakeToken();
  const std::string data = MakeBookData(10);
  std::vector<gateway::BookUpdate> pool(kBatch);
  for (auto& update : pool) {
    update.symbol = "AAPL";
    update.data = data;
  }
  std::vector<gateway::HubMessage> out(kBatch);
  for (auto _ : state) {
    for (auto& update : pool) queue.PushUpdate(token, std::move(update));
    std::size_t popped = 0;
    while (popped < kBatch) {
      popped += queue.PopBulk(out.data() + popped, kBatch - popped, std::chrono::microseconds(0));
    }
    queue.AfterPop();
    for (std::size_t i = 0; i < kBatch; ++i)
      pool[i] = std::get<gateway::BookUpdate>(std::move(out[i]));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBatch));
}
BENCHMARK(BM_UpdateQueuePushPopInThread);

void BM_UpdateQueueTwoThreads(benchmark::State& state) {
  gateway::UpdateQueue queue(kHighWater);
  gateway::UpdateQueue::Token token = queue.MakeToken();
  const std::string data = state.range(0) != 0 ? MakeBookData(10) : std::string();
  std::atomic<std::uint64_t> consumed{0};
  std::atomic<bool> stop{false};
  std::thread consumer([&] {
    std::vector<gateway::HubMessage> out(kBatch);
    while (true) {
      std::size_t count = queue.PopBulk(out.data(), kBatch, std::chrono::milliseconds(1));
      queue.AfterPop();
      for (std::size_t i = 0; i < count; ++i) out[i] = gateway::HubMessage();
      if (count > 0) consumed.fetch_add(count, std::memory_order_release);
      if (count == 0 && stop.load(std::memory_order_acquire)) return;
    }
  });
  std::uint64_t produced = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      gateway::BookUpdate update;
      update.symbol = "AAPL";
      update.data = data;
      queue.PushUpdate(token, std::move(update));
    }
    produced += kBatch;
    while (produced - consumed.load(std::memory_order_acquire) > kWindow) {
      std::this_thread::yield();
    }
  }
  // The timer stopped with the loop: the last (at most kWindow) messages are
  // drained untimed, which is negligible next to a normal run.
  while (consumed.load(std::memory_order_acquire) < produced) std::this_thread::yield();
  stop.store(true, std::memory_order_release);
  consumer.join();
  state.SetItemsProcessed(static_cast<std::int64_t>(produced));
}
BENCHMARK(BM_UpdateQueueTwoThreads)->ArgName("payload")->Arg(0)->Arg(1)->UseRealTime();

}  // namespace
}  // namespace obgw::bench
