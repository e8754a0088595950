// The event log (issue 13): what a line costs the I/O thread that logs it.
// Refused: a flood over the kind's rate limit (a level check and one
// compare-and-swap, the fields not built); Text and Json: a ws_closed line
// written, formatted into spdlog's null sink (no I/O).
#include <memory>
#include <string>

#include <benchmark/benchmark.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "gateway/logging/event_log.h"
#include "gateway/logging/json_formatter.h"

namespace obgw::bench {
namespace {

// spdlog's default logger into the null sink for one benchmark; the event
// log at `per_second` lines of each kind.
class NullLog {
 public:
  NullLog(bool json, double per_second) : previous_(spdlog::default_logger()) {
    auto logger =
        std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
    if (json) {
      logger->set_formatter(std::make_unique<gateway::JsonLineFormatter>("gateway"));
    } else {
      logger->set_formatter(
          std::make_unique<spdlog::pattern_formatter>("[%Y-%m-%d %H:%M:%S.%e] [%n] [%^%l%$] %v"));
    }
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
    gateway::EventLog::Configure(per_second, 1);
  }
  ~NullLog() {
    spdlog::set_default_logger(previous_);
    gateway::EventLog::Configure(0, 1);
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
};

void LogClosed() {
  gateway::LogEvent(gateway::LogKind::ws_connection, spdlog::level::info, "ws_closed",
                    [](gateway::LogFields& line) {
                      line.Add("client_id", "trader-1")
                          .AddPeer("peer", "10.0.0.7", 51234)
                          .Add("shard", 1)
                          .Add("tls", false)
                          .Add("code", 1000)
                          .Add("reason", "")
                          .Add("why", "client_close")
                          .Add("duration_ms", 3868)
                          .Add("messages_sent", 41);
                    });
}

void BM_LogEventRefused(benchmark::State& state) {
  std::unique_ptr<NullLog> log;
  if (state.thread_index() == 0) log = std::make_unique<NullLog>(false, 0.001);
  for (auto _ : state) LogClosed();
  state.SetItemsProcessed(state.iterations());
}
// Threads(2): two I/O threads refused on the same kind's atomic.
BENCHMARK(BM_LogEventRefused)->Threads(1)->Threads(2);

void BM_LogEventWrittenText(benchmark::State& state) {
  NullLog log(false, 0);
  for (auto _ : state) LogClosed();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LogEventWrittenText);

void BM_LogEventWrittenJson(benchmark::State& state) {
  NullLog log(true, 0);
  for (auto _ : state) LogClosed();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LogEventWrittenJson);

}  // namespace
}  // namespace obgw::bench
