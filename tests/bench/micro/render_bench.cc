// Rendering on the hot path. RenderBookData (proto -> "data" JSON) runs on a
// gRPC callback thread for every accepted update; RenderUpdateFrame wraps
// that data into the one WebSocket frame the hub builds per update. Both run
// once per book, whatever the subscriber count, so their cost bounds the
// gateway's updates/s. Reports bytes/s (output size) and items/s (books).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "gateway/fanout/update_frame.h"
#include "ingest/book_renderer.h"
#include "tests/bench/micro/bench_data.h"

namespace obgw::bench {
namespace {

// Distinct books cycled through, so the renderer does not see one input only.
constexpr std::size_t kBookCount = 64;
constexpr std::size_t kSymbolCount = 10;

void BM_RenderBookData(benchmark::State& state) {
  const auto levels = static_cast<std::size_t>(state.range(0));
  const auto books = MakeBooks(kBookCount, kSymbolCount, levels);
  std::size_t next = 0;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    std::string data = ingest::RenderBookData(books[next]);
    bytes += static_cast<std::int64_t>(data.size());
    benchmark::DoNotOptimize(data);
    next = (next + 1) % books.size();
  }
  state.SetBytesProcessed(bytes);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RenderBookData)->ArgName("levels")->Arg(10)->Arg(50);

void BM_RenderUpdateFrame(benchmark::State& state) {
  const std::string data = MakeBookData(10);
  gateway::IsoClock clock;
  std::uint64_t seq = 0;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    // As the hub does: one clock read and format per update.
    std::string_view timestamp = clock.Format(std::chrono::system_clock::now());
    gateway::FramePtr frame = gateway::RenderUpdateFrame("AAPL", ++seq, timestamp, data);
    bytes += static_cast<std::int64_t>(frame->wire().size());
    benchmark::DoNotOptimize(frame);
  }
  state.SetBytesProcessed(bytes);
  state.SetItemsProcessed(state.iterations());
  state.counters["data_bytes"] = static_cast<double>(data.size());
}
BENCHMARK(BM_RenderUpdateFrame);

}  // namespace
}  // namespace obgw::bench
