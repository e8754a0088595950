// Parsing what clients send: ParseClientMessage runs on an I/O shard for every
// WebSocket text message (subscribe storms at connect time), CheckBroadcast
// for every POST /broadcast/orderbook body (the legacy publish path, which
// validates the whole book as JSON). Reports items/s and bytes/s of input.
#include <cstdint>
#include <string>
#include <string_view>

#include <benchmark/benchmark.h>

#include "gateway/http/broadcast_request.h"
#include "gateway/ws/client_message.h"
#include "tests/bench/micro/bench_data.h"

namespace obgw::bench {
namespace {

void BM_ParseClientMessageSubscribe(benchmark::State& state) {
  constexpr std::string_view kMessage = R"({"action":"subscribe","symbol":"AAPL"})";
  for (auto _ : state) {
    gateway::ClientRequest request = gateway::ParseClientMessage(kMessage);
    benchmark::DoNotOptimize(request);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kMessage.size()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseClientMessageSubscribe);

void BM_CheckBroadcast(benchmark::State& state) {
  const std::string body = MakeBookData(10);
  for (auto _ : state) {
    gateway::BroadcastCheck check = gateway::CheckBroadcast(true, "AAPL", body);
    benchmark::DoNotOptimize(check);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CheckBroadcast);

}  // namespace
}  // namespace obgw::bench
