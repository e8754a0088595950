// One client that stops reading must not hold up the others and must be
// closed as a slow consumer.
//
// 20 reading clients and a gRPC publisher at a fixed rate of 50-level books.
// Phases alternate: baseline (readers only), then stalled (plus one raw client
// that subscribes and never reads, with a tiny receive buffer), three times.
// The test asserts behaviour, not latency or memory figures (which depend on
// the machine's load): every stalled client is closed with 1008 "slow
// consumer" and counted, no reader is closed, every reader receives books in
// every phase, and every reader receives the newest book of each phase (a
// head-of-line block on the stalled socket would hold the readers' books
// until the stalled client is closed, and the phase would end without them).

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "grpc_test_client.h"
#include "http_test_client.h"
#include "raw_ws_client.h"
#include "test_util.h"

namespace obgw::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Phase numbers, carried in each book's source_seq (phase * kPhaseStride + n)
// so that a book counts for the phase it was sent in.
constexpr int kWarmUp = 0;
constexpr int kRounds = 3;
constexpr int kPhases = 1 + 2 * kRounds;  // warm-up, then baseline/stalled pairs
constexpr std::uint64_t kPhaseStride = 1'000'000'000;
bool IsStalledPhase(int phase) { return phase > 0 && phase % 2 == 0; }

std::int64_t NowUnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The integer after `"key":` in `text`; -1 when absent.
std::int64_t IntAfter(std::string_view text, std::string_view key) {
  std::size_t pos = text.find(key);
  if (pos == std::string_view::npos) return -1;
  std::int64_t value = -1;
  const char* begin = text.data() + pos + key.size();
  std::from_chars(begin, text.data() + text.size(), value);
  return value;
}

// N WebSocket clients that read everything as fast as they can, all on one
// io_context run by one thread (cheaper than N test clients on N threads on
// a 2-core machine), recording each book's latency by phase.
class LatencyReaders {
 public:
  explicit LatencyReaders(int port) : port_(port) {}
  ~LatencyReaders() { Stop(); }

  // Connects `count` clients and subscribes each to `symbols` (synchronously).
  bool Connect(int count, const std::string& subscribe, std::size_t confirmations,
               std::string* error) {
    try {
      for (int i = 0; i < count; ++i) {
        auto& reader = readers_.emplace_back(io_);
        reader.ws.next_layer().connect(
            {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)});
        reader.ws.next_layer().set_option(tcp::no_delay(true));
        reader.ws.read_message_max(64 << 20);
        reader.ws.handshake("127.0.0.1", "/ws/reader-" + std::to_string(i));
        reader.ws.write(asio::buffer(subscribe));
        for (std::size_t c = 0; c < confirmations; ++c) {
          reader.ws.read(reader.buffer);
          std::string text = beast::buffers_to_string(reader.buffer.data());
          reader.buffer.consume(reader.buffer.size());
          if (text.find("subscription_confirmed") == std::string::npos) {
            *error = "reader " + std::to_string(i) + ": unexpected " + text;
            return false;
          }
        }
      }
    } catch (const std::exception& e) {
      *error = e.what();
      return false;
    }
    return true;
  }

  void Start() {
    for (Reader& reader : readers_) ReadNext(reader);
    thread_ = std::thread([this] { io_.run(); });
  }

  // Whether every reader has received a book with at least `source_seq`
  // within `timeout`.
  bool WaitUntilEachSaw(std::int64_t source_seq, milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      bool all = true;
      for (const Reader& reader : readers_) {
        all &= reader.max_source_seq.load(std::memory_order_relaxed) >= source_seq;
      }
      if (all) return true;
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(milliseconds(5));
    }
  }

  void Stop() {
    if (!thread_.joinable()) return;
    io_.stop();
    thread_.join();
  }

  // After Stop(): latencies (ns) of the books sent in `phase`, and how many
  // readers ended early.
  std::vector<std::int64_t>& latencies(int phase) { return latencies_[phase]; }
  int broken() const { return broken_; }
  // After Stop(): the fewest books any reader received of those published in
  // `phase`.
  std::int64_t FewestBooks(int phase) const {
    std::int64_t fewest = -1;
    for (const Reader& reader : readers_) {
      if (fewest < 0 || reader.books[phase] < fewest) fewest = reader.books[phase];
    }
    return fewest;
  }
  std::int64_t malformed() const { return malformed_; }

 private:
  struct Reader {
    explicit Reader(asio::io_context& io) : ws(io) {}
    websocket::stream<tcp::socket> ws;
    beast::flat_buffer buffer;
    // The highest source_seq received; written by the reader thread only.
    std::atomic<std::int64_t> max_source_seq{-1};
    // Books received, by the phase they were published in.
    std::int64_t books[kPhases] = {};
  };

  void ReadNext(Reader& reader) {
    reader.ws.async_read(reader.buffer, [this, &reader](beast::error_code ec, std::size_t) {
      if (ec) {
        ++broken_;
        return;
      }
      std::int64_t received = NowUnixNanos();
      auto data = reader.buffer.cdata();
      std::string_view text(static_cast<const char*>(data.data()), data.size());
      std::int64_t sent = IntAfter(text, R"("send_time_ns":)");
      std::int64_t source_seq = IntAfter(text, R"("source_seq":)");
      int phase = source_seq < 0 ? -1 : static_cast<int>(source_seq / kPhaseStride);
      if (sent > 0 && phase >= 0 && phase < kPhases) {
        latencies_[phase].push_back(received - sent);
        ++reader.books[phase];
        if (source_seq > reader.max_source_seq.load(std::memory_order_relaxed)) {
          reader.max_source_seq.store(source_seq, std::memory_order_relaxed);
        }
      } else {
        ++malformed_;
      }
      reader.buffer.consume(reader.buffer.size());
      ReadNext(reader);
    });
  }

  const int port_;
  asio::io_context io_;
  std::list<Reader> readers_;  // Stable addresses for the handlers.
  std::thread thread_;
  std::vector<std::int64_t> latencies_[kPhases];
  int broken_ = 0;
  std::int64_t malformed_ = 0;
};

double Percentile(std::vector<std::int64_t> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  std::size_t index = static_cast<std::size_t>(p * static_cast<double>(values.size()));
  return static_cast<double>(values[std::min(index, values.size() - 1)]) / 1e6;  // ms
}

TEST(SlowConsumerTest, StalledClientDoesNotSlowOthersAndIsClosed) {
  // Small budgets so that the stalled client is found within a phase: 256 KiB
  // of unwritten data, 0.5 s over it or 1 s without write progress.
  constexpr std::int64_t kBudgetBytes = 256 * 1024;
  OBGW_START_GATEWAY(gw, {"--send_timeout_ms=1000", "--slow_consumer_grace_ms=500",
                          "--slow_consumer_bytes=" + std::to_string(kBudgetBytes)});
  const int port = gw->http_port();
  const std::vector<std::string> symbols = {"SC1", "SC2", "SC3", "SC4"};
  const std::string subscribe = R"({"action":"subscribe","symbols":["SC1","SC2","SC3","SC4"]})";
  constexpr int kReaders = 20;
  constexpr int kLevels = 50;                 // About 2.3 KB per book.
  constexpr milliseconds kPeriod{5};          // 200 books a second...
  constexpr milliseconds kPhaseLength{2000};  // ...for at least 2 s per phase.
  // On loopback the kernel takes megabytes into a socket's send buffer
  // before a write stalls (the 64 KiB MSS makes send buffer autotuning
  // generous), which the readers' books alone would take many seconds to
  // fill. So the stalled client also subscribes to BULK, 1000-level books
  // (about 36 KB) published 100 times a second in every phase; no reader
  // subscribes to it.
  const std::string stalled_subscribe =
      R"({"action":"subscribe","symbols":["SC1","SC2","SC3","SC4","BULK"]})";
  constexpr int kBulkLevels = 1000;
  constexpr int kBulkEvery = 2;  // ticks: 100 a second

  LatencyReaders readers(port);
  std::string error;
  ASSERT_TRUE(readers.Connect(kReaders, subscribe, symbols.size(), &error)) << error;
  readers.Start();

  std::atomic<int> phase{kWarmUp};
  std::atomic<bool> stop{false};
  std::atomic<bool> publish_failed{false};
  std::int64_t last_source_seq = 0;  // Of the last reader book; read after join.
  std::thread publisher([&] {
    PublishStreamWriter writer(gw->grpc_target());
    std::vector<orderbook::v1::OrderBookUpdate> books;
    for (const std::string& symbol : symbols) books.push_back(MakeUpdate(symbol, 0, kLevels));
    // MakeUpdate's prices step by 0.25 from 100 and would turn negative.
    orderbook::v1::OrderBookUpdate bulk;
    bulk.set_symbol("BULK");
    for (int i = 0; i < kBulkLevels; ++i) {
      auto* bid = bulk.add_bids();
      bid->set_price(1000.0 - 0.125 * i);
      bid->set_volume(10.0 + i);
      bid->set_orders(static_cast<std::uint32_t>(i % 7 + 1));
      auto* ask = bulk.add_asks();
      ask->set_price(1000.5 + 0.125 * i);
      ask->set_volume(20.0 + i);
      ask->set_orders(static_cast<std::uint32_t>(i % 5 + 1));
    }
    auto next = Clock::now();
    for (std::uint64_t n = 1; !stop.load(); ++n) {
      next += kPeriod;
      std::this_thread::sleep_until(next);
      // Fixed rate; after a stall of this thread, no catch-up burst.
      if (Clock::now() - next > 5 * kPeriod) next = Clock::now();
      orderbook::v1::OrderBookUpdate& book = books[n % books.size()];
      book.set_source_seq(static_cast<std::uint64_t>(phase.load()) * kPhaseStride + n);
      book.set_send_time_ns(NowUnixNanos());
      if (!writer.Write(book) || (n % kBulkEvery == 0 && !writer.Write(bulk))) {
        publish_failed = true;
        break;
      }
      last_source_seq = static_cast<std::int64_t>(book.source_seq());
    }
    PublishResult result = writer.Finish();
    if (!result.status.ok() || result.summary.rejected() != 0) publish_failed = true;
  });

  // Lasts at least `length`, and until `closed` slow consumers were closed
  // (at most 10 s): each stalled phase ends once its client is closed, so no
  // baseline phase has one.
  std::vector<std::int64_t> closed_after_ms;
  auto run_phase = [&](milliseconds length, std::int64_t closed) {
    auto start = Clock::now();
    bool seen = false;
    for (;;) {
      auto elapsed = Clock::now() - start;
      json::value st = GetStats(port);
      if (!seen && FindInt(st, "ws_closed_slow_consumer").value_or(0) >= closed) {
        seen = true;
        if (IsStalledPhase(phase.load())) {
          closed_after_ms.push_back(
              std::chrono::duration_cast<milliseconds>(Clock::now() - start).count());
        }
      }
      if ((elapsed >= length && seen) || elapsed >= std::chrono::seconds(10)) break;
      std::this_thread::sleep_for(milliseconds(50));
    }
  };
  // The stalled client is closed with 1008 "slow consumer": once it reads,
  // what waits in its socket comes first, then the close frame. Read at once
  // after the close is counted, before the gateway gives up on the close
  // handshake and drops the socket.
  auto expect_closed_as_slow_consumer = [](RawWsClient& client, int round) {
    std::optional<RawWsClient::Frame> close;
    std::size_t frames = 0;
    while (std::optional<RawWsClient::Frame> frame = client.ReadFrame(milliseconds(10000))) {
      if (frame->opcode == 0x8) {
        close = std::move(frame);
        break;
      }
      ++frames;
    }
    ASSERT_TRUE(close.has_value())
        << "stalled client " << round << " after " << frames << " frames: " << client.error();
    EXPECT_EQ(close->close_code(), 1008) << "stalled client " << round;
    EXPECT_EQ(close->close_reason(), "slow consumer") << "stalled client " << round;
    std::printf("[ info ] stalled client %d: %zu frames were waiting before its close\n", round,
                frames);
  };
  run_phase(milliseconds(500), 0);  // warm-up
  std::vector<std::unique_ptr<RawWsClient>> stalled;
  for (int round = 0; round < kRounds; ++round) {
    phase = 1 + 2 * round;
    run_phase(kPhaseLength, round);
    phase = 2 + 2 * round;
    // Subscribes, then never reads a byte; the phase lasts until the gateway
    // has closed it, so that no baseline phase has a stalled client.
    auto& client = stalled.emplace_back(std::make_unique<RawWsClient>());
    ASSERT_TRUE(client->Connect(port, "/ws/stalled-" + std::to_string(round), 4096))
        << client->error();
    ASSERT_TRUE(client->SendText(stalled_subscribe)) << client->error();
    run_phase(kPhaseLength, round + 1);
    expect_closed_as_slow_consumer(*client, round);
  }
  stop = true;
  publisher.join();
  ASSERT_FALSE(publish_failed.load()) << "the gRPC stream broke or rejected books";
  // The newest book of a symbol is never conflated away: every reader gets
  // the last one published.
  EXPECT_TRUE(readers.WaitUntilEachSaw(last_source_seq, milliseconds(5000)));
  readers.Stop();

  // Every stalled client was closed as a slow consumer (counted once each).
  json::value stats = WaitForStat(port, "ws_closed_slow_consumer", kRounds);
  EXPECT_EQ(FindInt(stats, "ws_closed_slow_consumer"), kRounds) << Str(stats);
  for (std::int64_t ms : closed_after_ms) {
    std::printf("[ info ] a stalled client was closed %lld ms after it connected\n",
                static_cast<long long>(ms));
  }
  // The readers were never closed and got books in every phase.
  EXPECT_EQ(readers.broken(), 0);
  EXPECT_EQ(readers.malformed(), 0);

  // Every reader got books in every phase, those with a stalled client
  // included. Latencies are printed for information only: on a shared 2-core
  // machine they measure its load as much as the gateway.
  for (int p = 1; p < kPhases; ++p) {
    std::vector<std::int64_t>& samples = readers.latencies(p);
    EXPECT_GT(readers.FewestBooks(p), 0) << "phase " << p;
    std::printf(
        "[ info ] phase %d (%s): %zu books, fewest per reader %lld, p50 %.3f ms, "
        "p99 %.3f ms\n",
        p, IsStalledPhase(p) ? "stalled" : "baseline", samples.size(),
        static_cast<long long>(readers.FewestBooks(p)), Percentile(samples, 0.50),
        Percentile(samples, 0.99));
  }
}

}  // namespace
}  // namespace obgw::testing
