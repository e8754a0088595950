// One client that stops reading must not slow down the others, must not make
// the gateway's memory grow, and must be closed as a slow consumer.
//
// 20 reading clients and a gRPC publisher at a fixed rate of 50-level books;
// each book carries its send time (send_time_ns, in data), so every reader
// measures end-to-end latency (publisher Write -> reader's read handler).
// Phases alternate: baseline (readers only), then stalled (plus one raw client
// that subscribes and never reads, with a tiny receive buffer), twice over,
// so that slow drifts of the machine's load hit both kinds alike.

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <memory>
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

// The test is built with the gateway's sanitizer flags (OBGW_SANITIZE).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kBuiltWithAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kBuiltWithAddressSanitizer = true;
#else
constexpr bool kBuiltWithAddressSanitizer = false;
#endif
#else
constexpr bool kBuiltWithAddressSanitizer = false;
#endif

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
  std::int64_t malformed() const { return malformed_; }

 private:
  struct Reader {
    explicit Reader(asio::io_context& io) : ws(io) {}
    websocket::stream<tcp::socket> ws;
    beast::flat_buffer buffer;
    // The highest source_seq received; written by the reader thread only.
    std::atomic<std::int64_t> max_source_seq{-1};
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
  const pid_t pid = gw->process().pid();
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

  // Samples the gateway's RSS (and its slow-consumer count) for at least
  // `length`, and until `closed` slow consumers were closed (at most 10 s);
  // returns the largest RSS seen.
  std::vector<std::int64_t> closed_after_ms;
  auto run_phase = [&](milliseconds length, std::int64_t closed) {
    std::int64_t max_rss = 0;
    auto start = Clock::now();
    bool seen = false;
    for (;;) {
      max_rss = std::max(max_rss, ReadVmRssKib(pid));
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
    return max_rss;
  };
  std::int64_t rss_baseline = run_phase(milliseconds(500), 0);  // warm-up
  std::int64_t rss_stalled = 0;
  std::vector<std::unique_ptr<RawWsClient>> stalled;
  for (int round = 0; round < kRounds; ++round) {
    phase = 1 + 2 * round;
    rss_baseline = std::max(rss_baseline, run_phase(kPhaseLength, round));
    phase = 2 + 2 * round;
    // Subscribes, then never reads a byte; the phase lasts until the gateway
    // has closed it, so that no baseline phase has a stalled client.
    auto& client = stalled.emplace_back(std::make_unique<RawWsClient>());
    ASSERT_TRUE(client->Connect(port, "/ws/stalled-" + std::to_string(round), 4096))
        << client->error();
    ASSERT_TRUE(client->SendText(stalled_subscribe)) << client->error();
    rss_stalled = std::max(rss_stalled, run_phase(kPhaseLength, round + 1));
  }
  stop = true;
  publisher.join();
  ASSERT_FALSE(publish_failed.load()) << "the gRPC stream broke or rejected books";
  // The newest book of a symbol is never conflated away: every reader gets
  // the last one published.
  EXPECT_TRUE(readers.WaitUntilEachSaw(last_source_seq, milliseconds(5000)));
  readers.Stop();

  // Every stalled client was closed as a slow consumer...
  json::value stats = WaitForStat(port, "ws_closed_slow_consumer", kRounds);
  EXPECT_EQ(FindInt(stats, "ws_closed_slow_consumer"), kRounds) << Str(stats);
  for (std::int64_t ms : closed_after_ms) {
    std::printf("[ info ] a stalled client was closed %lld ms after it connected\n",
                static_cast<long long>(ms));
  }
  // ...and its TCP connection ends (it reads nothing, so the close frame
  // waits unread; the gateway drops the socket after its close timeout).
  for (std::size_t i = 0; i < stalled.size(); ++i) {
    std::size_t bytes = 0;
    EXPECT_TRUE(stalled[i]->DrainUntilClosed(std::chrono::seconds(10), &bytes))
        << "stalled client " << i << ": " << stalled[i]->error();
    std::printf("[ info ] stalled client %zu: %zu bytes were waiting in its socket\n", i, bytes);
  }
  // The readers were never closed and got books in every phase.
  EXPECT_EQ(readers.broken(), 0);
  EXPECT_EQ(readers.malformed(), 0);

  std::vector<std::int64_t> baseline, with_stalled;
  for (int p = 1; p < kPhases; ++p) {
    std::vector<std::int64_t>& samples = readers.latencies(p);
    EXPECT_GT(samples.size(), static_cast<std::size_t>(kReaders * 100)) << "phase " << p;
    std::printf("[ info ] phase %d (%s): %zu books, p50 %.3f ms, p99 %.3f ms\n", p,
                IsStalledPhase(p) ? "stalled" : "baseline", samples.size(),
                Percentile(samples, 0.50), Percentile(samples, 0.99));
    auto& pool = IsStalledPhase(p) ? with_stalled : baseline;
    pool.insert(pool.end(), samples.begin(), samples.end());
  }
  double p99_baseline = Percentile(baseline, 0.99);
  double p99_stalled = Percentile(with_stalled, 0.99);
  std::printf(
      "[ info ] p99 latency: baseline %.3f ms, with a stalled client %.3f ms (ratio %.2f); "
      "gateway RSS: baseline %lld KiB, stalled phases max %lld KiB\n",
      p99_baseline, p99_stalled, p99_baseline > 0 ? p99_stalled / p99_baseline : 0.0,
      static_cast<long long>(rss_baseline), static_cast<long long>(rss_stalled));
  // The goal: the stalled client costs the others at most 10% at p99. The
  // 2 ms absolute slack keeps scheduler noise at sub-millisecond latencies
  // (a loaded 2-core machine shares its cores with the gateway, the publisher
  // and the readers) from failing the test; a real head-of-line block (books
  // waiting on the stalled socket) would cost the send timeout, 1000 ms.
  // Under ThreadSanitizer (5-15x slower, run-tests.sh tsan sets
  // OBGW_NO_LATENCY_ASSERTS) latencies say nothing about the gateway: the
  // figures are printed above, everything else is still checked.
  const char* no_latency = std::getenv("OBGW_NO_LATENCY_ASSERTS");
  if (no_latency == nullptr || std::string_view(no_latency) != "1") {
    EXPECT_LE(p99_stalled, 1.10 * p99_baseline + 2.0)
        << "baseline p99 " << p99_baseline << " ms, with stalled client " << p99_stalled << " ms";
  }
  // Memory stays bounded: the stalled client's backlog is capped by its
  // budget (what it has queued, at most one book over it, and the write in
  // flight), so the gateway grows by a small multiple of it at most; what the
  // kernel holds in the socket is not the gateway's RSS.
  // Under AddressSanitizer the gateway's RSS measures ASan's quarantine
  // (freed blocks are held back, up to 256 MiB, to catch use after free), so
  // it grows with the books churned, not with what is queued: the bound is
  // checked in the plain and TSan suites only.
  ASSERT_GT(rss_baseline, 0);
  if (!kBuiltWithAddressSanitizer) {
    EXPECT_LE(rss_stalled, rss_baseline + 4 * kBudgetBytes / 1024)
        << "RSS grew from " << rss_baseline << " KiB to " << rss_stalled << " KiB";
  }
}

}  // namespace
}  // namespace obgw::testing
