// Market-data semantics a trading front-end relies on: the snapshot that
// follows a confirmation, the epoch, per-symbol seq without gaps for a client
// that keeps up, multi-symbol requests with req_id, list_subscriptions,
// coded errors, and the per-connection throttle (?throttle_ms).

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "grpc_test_client.h"
#include "http_test_client.h"
#include "test_util.h"
#include "ws_test_client.h"

namespace obgw::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// How long "nothing more arrives" is watched for.
constexpr milliseconds kQuiet{300};

// The next message must be a JSON object of `type` (and of `symbol`, unless
// empty); it is stored in `out`.
::testing::AssertionResult NextIs(WsTestClient& client, std::string_view type,
                                  std::string_view symbol, json::object* out,
                                  milliseconds timeout = std::chrono::seconds(5)) {
  std::optional<json::object> message = client.ReadJson(timeout);
  if (!message) {
    return ::testing::AssertionFailure()
           << "expected " << type << " " << symbol << ", got nothing: " << client.error();
  }
  const json::value* s = message->if_contains("symbol");
  bool symbol_ok = symbol.empty() || (s != nullptr && s->is_string() && s->as_string() == symbol);
  if (TypeOf(*message) != type || !symbol_ok) {
    return ::testing::AssertionFailure()
           << "expected " << type << " " << symbol << ", got " << Str(*message);
  }
  *out = std::move(*message);
  return ::testing::AssertionSuccess();
}

// Nothing arrives for kQuiet.
::testing::AssertionResult NothingMore(WsTestClient& client) {
  std::optional<std::string> message = client.ReadAny(kQuiet);
  if (message) return ::testing::AssertionFailure() << "unexpected message: " << *message;
  if (client.closed()) return ::testing::AssertionFailure() << "closed: " << client.error();
  return ::testing::AssertionSuccess();
}

json::value Parse(std::string_view text) { return json::parse(text); }

std::optional<std::int64_t> StatsEpoch(int port) { return FindInt(GetStats(port), "epoch"); }

TEST(SnapshotTest, ConfirmationIsFollowedBySnapshotOfLastBookThenLiveBooksContinueSeq) {
  OBGW_START_GATEWAY(gw, {});
  const int port = gw->http_port();
  // A subscriber from the start sees the live books, to compare with.
  WsTestClient watcher;
  ASSERT_TRUE(watcher.Connect(port, "watcher")) << watcher.error();
  std::string error;
  ASSERT_TRUE(Subscribe(watcher, "AAPL", &error)) << error;
  json::object last_live;
  for (int n = 1; n <= 3; ++n) {
    ASSERT_TRUE(IsBroadcastSuccess(PostBook(port, "AAPL", R"({"n":)" + std::to_string(n) + "}"),
                                   "AAPL", 1));
    ASSERT_TRUE(NextIs(watcher, "orderbook_update", "AAPL", &last_live));
  }
  ASSERT_EQ(FindInt(last_live, "seq"), 3) << Str(last_live);
  std::optional<std::int64_t> epoch = StatsEpoch(port);
  ASSERT_TRUE(epoch) << Str(GetStats(port));

  WsTestClient late;
  ASSERT_TRUE(late.Connect(port, "late")) << late.error();
  ASSERT_TRUE(late.SendText(R"({"action":"subscribe","symbol":"AAPL","req_id":7})"));
  json::object confirmation;
  ASSERT_TRUE(NextIs(late, "subscription_confirmed", "AAPL", &confirmation));
  EXPECT_EQ(FindInt(confirmation, "epoch"), epoch) << Str(confirmation);
  EXPECT_EQ(FindInt(confirmation, "req_id"), 7) << Str(confirmation);

  // Right behind it: the last book, marked as a snapshot, same seq, same
  // gateway timestamp and same data as when it was live.
  json::object snapshot;
  ASSERT_TRUE(NextIs(late, "orderbook_update", "AAPL", &snapshot));
  EXPECT_EQ(Field(snapshot, "snapshot"), json::value(true)) << Str(snapshot);
  EXPECT_EQ(FindInt(snapshot, "seq"), 3) << Str(snapshot);
  EXPECT_EQ(FindInt(snapshot, "epoch"), epoch) << Str(snapshot);
  EXPECT_EQ(Field(snapshot, "data"), Parse(R"({"n":3})")) << Str(snapshot);
  EXPECT_EQ(Field(snapshot, "timestamp"), Field(last_live, "timestamp")) << Str(snapshot);

  // Live books continue the sequence: seq 4, not a snapshot.
  ASSERT_TRUE(IsBroadcastSuccess(PostBook(port, "AAPL", R"({"n":4})"), "AAPL", 2));
  json::object live;
  ASSERT_TRUE(NextIs(late, "orderbook_update", "AAPL", &live));
  EXPECT_EQ(FindInt(live, "seq"), 4) << Str(live);
  EXPECT_FALSE(live.contains("snapshot")) << Str(live);
  EXPECT_EQ(Field(live, "data"), Parse(R"({"n":4})")) << Str(live);
  // The watcher got no snapshot, only the live book.
  ASSERT_TRUE(NextIs(watcher, "orderbook_update", "AAPL", &live));
  EXPECT_EQ(FindInt(live, "seq"), 4) << Str(live);
  EXPECT_TRUE(NothingMore(watcher));
  EXPECT_TRUE(NothingMore(late));

  json::value stats = WaitForStat(port, "snapshots_sent", 1);
  EXPECT_EQ(FindInt(stats, "snapshots_sent"), 1) << Str(stats);
}

TEST(SnapshotTest, NoSnapshotBeforeAnyBookAndNoneOnRepeatedSubscribe) {
  OBGW_START_GATEWAY(gw, {});
  const int port = gw->http_port();
  WsTestClient client;
  ASSERT_TRUE(client.Connect(port, "fresh")) << client.error();
  ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbol":"NEW","req_id":"first"})"));
  json::object message;
  ASSERT_TRUE(NextIs(client, "subscription_confirmed", "NEW", &message));
  EXPECT_EQ(Field(message, "req_id"), json::value("first")) << Str(message);
  EXPECT_TRUE(message.contains("epoch")) << Str(message);
  // Nothing was ever published for NEW: no snapshot.
  EXPECT_TRUE(NothingMore(client));

  ASSERT_TRUE(IsBroadcastSuccess(PostBook(port, "NEW", R"({"n":1})"), "NEW", 1));
  ASSERT_TRUE(NextIs(client, "orderbook_update", "NEW", &message));
  EXPECT_EQ(FindInt(message, "seq"), 1) << Str(message);
  EXPECT_FALSE(message.contains("snapshot")) << Str(message);

  // Subscribing again: confirmed again, no second snapshot, counted once.
  ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbol":"NEW","req_id":2})"));
  ASSERT_TRUE(NextIs(client, "subscription_confirmed", "NEW", &message));
  EXPECT_EQ(FindInt(message, "req_id"), 2) << Str(message);
  EXPECT_TRUE(NothingMore(client));
  ASSERT_TRUE(IsBroadcastSuccess(PostBook(port, "NEW", R"({"n":2})"), "NEW", 1));
  ASSERT_TRUE(NextIs(client, "orderbook_update", "NEW", &message));
  EXPECT_EQ(FindInt(message, "seq"), 2) << Str(message);
  EXPECT_TRUE(NothingMore(client));  // Once, not twice.
  json::value stats = GetStats(port);
  EXPECT_EQ(FindInt(stats, "total_subscriptions"), 1) << Str(stats);
  EXPECT_EQ(FindInt(stats, "snapshots_sent"), 0) << Str(stats);
}

TEST(SnapshotTest, SymbolsListIsConfirmedInOrderEachWithItsSnapshot) {
  OBGW_START_GATEWAY(gw, {});
  const int port = gw->http_port();
  ASSERT_TRUE(IsBroadcastSuccess(PostBook(port, "S1", R"({"s":1})"), "S1", 0));
  ASSERT_TRUE(IsBroadcastSuccess(PostBook(port, "S2", R"({"s":2})"), "S2", 0));
  ASSERT_TRUE(IsBroadcastSuccess(PostBook(port, "S2", R"({"s":22})"), "S2", 0));
  // Nothing for S3.

  WsTestClient client;
  ASSERT_TRUE(client.Connect(port, "lists")) << client.error();
  // "symbol" first, then "symbols" in order, duplicates dropped: S2, S1, S3.
  ASSERT_TRUE(client.SendText(
      R"({"action":"subscribe","symbol":"S2","symbols":["S1","S3","S2","S1"],"req_id":"abc"})"));
  struct Expected {
    std::string symbol;
    std::int64_t snapshot_seq;  // 0: no snapshot
    std::string data;
  };
  for (const Expected& e :
       {Expected{"S2", 2, R"({"s":22})"}, Expected{"S1", 1, R"({"s":1})"}, Expected{"S3", 0, ""}}) {
    SCOPED_TRACE(e.symbol);
    json::object message;
    ASSERT_TRUE(NextIs(client, "subscription_confirmed", e.symbol, &message));
    EXPECT_EQ(Field(message, "req_id"), json::value("abc")) << Str(message);
    if (e.snapshot_seq == 0) continue;
    ASSERT_TRUE(NextIs(client, "orderbook_update", e.symbol, &message));
    EXPECT_EQ(Field(message, "snapshot"), json::value(true)) << Str(message);
    EXPECT_EQ(FindInt(message, "seq"), e.snapshot_seq) << Str(message);
    EXPECT_EQ(Field(message, "data"), Parse(e.data)) << Str(message);
  }
  EXPECT_TRUE(NothingMore(client));

  // list_subscriptions: sorted, req_id echoed when given, absent otherwise.
  json::object list;
  ASSERT_TRUE(client.SendText(R"({"action":"list_subscriptions","req_id":11})"));
  ASSERT_TRUE(NextIs(client, "subscriptions", "", &list));
  EXPECT_EQ(Field(list, "symbols"), Parse(R"(["S1","S2","S3"])")) << Str(list);
  EXPECT_EQ(FindInt(list, "req_id"), 11) << Str(list);
  ASSERT_TRUE(client.SendText(R"({"action":"list_subscriptions"})"));
  ASSERT_TRUE(NextIs(client, "subscriptions", "", &list));
  EXPECT_FALSE(list.contains("req_id")) << Str(list);

  // Unsubscribe a list: one confirmation per symbol, in order, also for a
  // symbol not held.
  ASSERT_TRUE(
      client.SendText(R"({"action":"unsubscribe","symbols":["S3","S1","NOPE"],"req_id":12})"));
  for (std::string_view symbol : {"S3", "S1", "NOPE"}) {
    json::object message;
    ASSERT_TRUE(NextIs(client, "unsubscription_confirmed", symbol, &message));
    EXPECT_EQ(FindInt(message, "req_id"), 12) << Str(message);
  }
  ASSERT_TRUE(client.SendText(R"({"action":"list_subscriptions","req_id":"l"})"));
  ASSERT_TRUE(NextIs(client, "subscriptions", "", &list));
  EXPECT_EQ(Field(list, "symbols"), Parse(R"(["S2"])")) << Str(list);
  EXPECT_EQ(Field(list, "req_id"), json::value("l")) << Str(list);
  // Delivery follows: S1 no longer, S2 still, continuing its sequence.
  ASSERT_TRUE(IsBroadcastSuccess(PostBook(port, "S1", R"({"s":111})"), "S1", 0));
  ASSERT_TRUE(IsBroadcastSuccess(PostBook(port, "S2", R"({"s":222})"), "S2", 1));
  json::object update;
  ASSERT_TRUE(NextIs(client, "orderbook_update", "S2", &update));
  EXPECT_EQ(FindInt(update, "seq"), 3) << Str(update);

  // ping echoes req_id (integer or string), or has none.
  for (auto [request, want] : std::vector<std::pair<std::string, std::string>>{
           {R"({"action":"ping","req_id":13})", R"({"type":"pong","req_id":13})"},
           {R"({"action":"ping","req_id":"p-1"})", R"({"type":"pong","req_id":"p-1"})"},
           {R"({"action":"ping"})", R"({"type":"pong"})"}}) {
    ASSERT_TRUE(client.SendText(request));
    std::optional<json::object> pong = client.ReadJson();
    ASSERT_TRUE(pong) << client.error();
    EXPECT_EQ(json::value(*pong), Parse(want)) << request;
  }
}

TEST(SnapshotTest, EpochIsTheSameInHealthStatsAndConfirmationsAndNewForEachRun) {
  std::int64_t first_epoch = 0;
  {
    OBGW_START_GATEWAY(gw, {});
    std::optional<std::int64_t> from_stats = StatsEpoch(gw->http_port());
    ASSERT_TRUE(from_stats);
    HttpResponse health = HttpGet(gw->http_port(), "/health");
    ASSERT_EQ(health.status, 200) << health.Describe();
    EXPECT_EQ(FindInt(health.Json(), "epoch"), from_stats) << health.Describe();
    WsTestClient client;
    ASSERT_TRUE(client.Connect(gw->http_port(), "epoch")) << client.error();
    ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbol":"E"})"));
    json::object confirmation;
    ASSERT_TRUE(NextIs(client, "subscription_confirmed", "E", &confirmation));
    EXPECT_EQ(FindInt(confirmation, "epoch"), from_stats) << Str(confirmation);
    first_epoch = *from_stats;
  }
  // A restarted gateway restarts seq: clients tell by the new epoch.
  OBGW_START_GATEWAY(gw2, {});
  std::optional<std::int64_t> second_epoch = StatsEpoch(gw2->http_port());
  ASSERT_TRUE(second_epoch);
  EXPECT_NE(*second_epoch, first_epoch);
}

TEST(RequestTest, ErrorsCarryTheirCodeAndEchoReqId) {
  OBGW_START_GATEWAY(gw, {"--max_subscriptions=1000", "--max_messages_per_second=1000",
                          "--max_message_burst=1000"});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "errors")) << client.error();

  std::string too_many = R"({"action":"subscribe","req_id":12,"symbols":[)";
  std::string thousand = R"({"action":"subscribe","req_id":14,"symbols":[)";
  for (int i = 0; i < 1001; ++i) {
    std::string item = (i > 0 ? ",\"T" : "\"T") + std::to_string(i) + "\"";
    too_many += item;
    if (i < 1000) thousand += item;
  }
  too_many += "]}";
  thousand += "]}";
  const std::string req_id_64(64, 'r');
  const std::string req_id_65(65, 'r');

  struct Case {
    std::string input;
    std::string code;
    std::string req_id;  // JSON of the expected req_id; empty: none
  };
  const std::vector<Case> cases = {
      {R"({"action":"dance","req_id":5})", "unknown_action", "5"},
      {R"({"req_id":"x"})", "unknown_action", R"("x")"},
      {R"({"action":"subscribe","req_id":6})", "missing_symbol", "6"},
      {R"({"action":"unsubscribe","symbols":[],"req_id":7})", "invalid_symbols", "7"},
      {R"({"action":"subscribe","symbols":"AAPL","req_id":8})", "invalid_symbols", "8"},
      {R"({"action":"subscribe","symbols":["AAPL",3],"req_id":9})", "invalid_symbols", "9"},
      {R"({"action":"subscribe","symbols":["AAPL","A B"],"req_id":10})", "invalid_symbol", "10"},
      {R"({"action":"subscribe","symbols":["AAPL"],"symbol":"bad/sym","req_id":-11})",
       "invalid_symbol", "-11"},
      {too_many, "too_many_symbols", "12"},
      {R"({"action":"ping","req_id":1.5})", "invalid_req_id", ""},
      {R"({"action":"ping","req_id":{}})", "invalid_req_id", ""},
      {R"({"action":"ping","req_id":[1]})", "invalid_req_id", ""},
      {R"({"action":"ping","req_id":true})", "invalid_req_id", ""},
      {R"({"action":"subscribe","symbol":"AAPL","req_id":")" + req_id_65 + R"("})",
       "invalid_req_id", ""},
      {"not json", "invalid_json", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input.substr(0, 100));
    ASSERT_TRUE(client.SendText(c.input)) << client.error();
    json::object reply;
    ASSERT_TRUE(NextIs(client, "error", "", &reply));
    EXPECT_EQ(Field(reply, "code"), json::value(c.code)) << Str(reply);
    ASSERT_TRUE(reply.contains("message") && Field(reply, "message").is_string()) << Str(reply);
    EXPECT_FALSE(Field(reply, "message").as_string().empty()) << Str(reply);
    if (c.req_id.empty()) {
      EXPECT_FALSE(reply.contains("req_id")) << Str(reply);
    } else {
      EXPECT_EQ(Field(reply, "req_id"), Parse(c.req_id)) << Str(reply);
    }
  }
  // None of the refused requests subscribed anything.
  ASSERT_TRUE(client.SendText(R"({"action":"list_subscriptions"})"));
  json::object list;
  ASSERT_TRUE(NextIs(client, "subscriptions", "", &list));
  EXPECT_EQ(Field(list, "symbols"), json::array()) << Str(list);

  // At the edges: a 64-byte string, a negative and a 64-bit unsigned req_id
  // are fine, and so are 1000 symbols in one request.
  ASSERT_TRUE(client.SendText(R"({"action":"ping","req_id":")" + req_id_64 + R"("})"));
  json::object pong;
  ASSERT_TRUE(NextIs(client, "pong", "", &pong));
  EXPECT_EQ(Field(pong, "req_id"), json::value(req_id_64)) << Str(pong);
  ASSERT_TRUE(client.SendText(R"({"action":"ping","req_id":18446744073709551615})"));
  ASSERT_TRUE(NextIs(client, "pong", "", &pong));
  EXPECT_EQ(Field(pong, "req_id"), json::value(18446744073709551615ULL)) << Str(pong);
  ASSERT_TRUE(client.SendText(thousand)) << client.error();
  for (int i = 0; i < 1000; ++i) {
    json::object confirmation;
    ASSERT_TRUE(NextIs(client, "subscription_confirmed", "T" + std::to_string(i), &confirmation));
    ASSERT_EQ(FindInt(confirmation, "req_id"), 14) << Str(confirmation);
  }
  json::value stats = WaitForStat(gw->http_port(), "total_subscriptions", 1000);
  EXPECT_EQ(FindInt(stats, "total_subscriptions"), 1000) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ws_errors"), static_cast<std::int64_t>(cases.size())) << Str(stats);
}

// A client that keeps up receives every book of every symbol it subscribed
// to, seq = previous + 1, nothing conflated or dropped.
TEST(SeqTest, FastClientSeesEverySeqWithoutGaps) {
  OBGW_START_GATEWAY(gw, {});
  const std::vector<std::string> symbols = {"GA", "GB", "GC"};
  constexpr int kBooks = 2000;
  constexpr int kClients = 2;
  std::vector<std::unique_ptr<WsTestClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<WsTestClient>());
    ASSERT_TRUE(clients[i]->Connect(gw->http_port(), "fast-" + std::to_string(i)))
        << clients[i]->error();
    ASSERT_TRUE(clients[i]->SendText(R"({"action":"subscribe","symbols":["GA","GB","GC"]})"));
    for (const std::string& symbol : symbols) {
      json::object confirmation;
      ASSERT_TRUE(NextIs(*clients[i], "subscription_confirmed", symbol, &confirmation));
    }
  }

  struct Result {
    std::map<std::string, std::int64_t> last_seq;
    std::map<std::string, std::int64_t> last_source_seq;
    int received = 0;
    std::string failure;
  };
  std::vector<Result> results(kClients);
  // Books each reader has checked: the publisher never gets more than
  // kWindow books ahead of the slowest, so the readers are "fast clients"
  // by construction, on any machine (ThreadSanitizer's 5-15x included).
  constexpr int kWindow = 100;
  std::vector<std::atomic<int>> progress(kClients);
  std::vector<std::thread> readers;
  for (int i = 0; i < kClients; ++i) {
    readers.emplace_back([&, i] {
      Result& r = results[i];
      auto deadline = Clock::now() + std::chrono::seconds(15);
      while (r.received < kBooks && r.failure.empty()) {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
        std::optional<json::object> update = clients[i]->ReadJson(std::max(left, milliseconds(0)));
        if (!update) {
          r.failure = "stopped after " + std::to_string(r.received) + ": " + clients[i]->error();
          progress[i].store(kBooks, std::memory_order_release);  // Do not hold the publisher.
          break;
        }
        const json::value* s = update->if_contains("symbol");
        std::string symbol = s && s->is_string() ? std::string(s->as_string()) : "";
        std::optional<std::int64_t> seq = FindInt(*update, "seq");
        std::optional<std::int64_t> source_seq = FindInt(*update, "data.source_seq");
        if (TypeOf(*update) != "orderbook_update" || symbol.empty() || !seq || !source_seq ||
            update->contains("snapshot")) {
          r.failure = "unexpected message: " + Str(*update);
          break;
        }
        std::int64_t& last = r.last_seq[symbol];
        if (*seq != last + 1 || *source_seq <= r.last_source_seq[symbol]) {
          r.failure = symbol + ": seq " + std::to_string(*seq) + " after " + std::to_string(last) +
                      " (source_seq " + std::to_string(*source_seq) + " after " +
                      std::to_string(r.last_source_seq[symbol]) + ")";
          break;
        }
        last = *seq;
        r.last_source_seq[symbol] = *source_seq;
        ++r.received;
        progress[i].store(r.received, std::memory_order_release);
      }
    });
  }

  // About 2,000 books a second, in small bursts, on one gRPC stream, never
  // more than kWindow ahead of the slowest reader.
  PublishResult published;
  {
    PublishStreamWriter writer(gw->grpc_target());
    auto deadline = Clock::now() + std::chrono::seconds(15);
    for (int i = 0; i < kBooks; ++i) {
      auto slowest = [&] {
        int least = kBooks;
        for (const auto& p : progress) least = std::min(least, p.load(std::memory_order_acquire));
        return least;
      };
      while (i - slowest() > kWindow && Clock::now() < deadline) {
        std::this_thread::sleep_for(milliseconds(1));
      }
      if (!writer.Write(MakeUpdate(symbols[i % symbols.size()], i + 1))) break;
      if (i % 20 == 19) std::this_thread::sleep_for(milliseconds(10));
    }
    published = writer.Finish();
  }
  for (std::thread& reader : readers) reader.join();
  ASSERT_TRUE(published.status.ok()) << published.status.error_message();
  ASSERT_EQ(published.summary.accepted(), static_cast<std::uint64_t>(kBooks));

  for (int i = 0; i < kClients; ++i) {
    SCOPED_TRACE("client " + std::to_string(i));
    const Result& r = results[i];
    EXPECT_TRUE(r.failure.empty()) << r.failure;
    EXPECT_EQ(r.received, kBooks);
    for (std::size_t s = 0; s < symbols.size(); ++s) {
      std::int64_t books = (kBooks - static_cast<int>(s) + 2) / 3;  // 667, 667, 666
      EXPECT_EQ(r.last_seq.count(symbols[s]) ? r.last_seq.at(symbols[s]) : 0, books) << symbols[s];
    }
  }
  json::value stats = GetStats(gw->http_port());
  EXPECT_EQ(FindInt(stats, "messages_conflated"), 0) << Str(stats);
  EXPECT_EQ(FindInt(stats, "messages_dropped"), 0) << Str(stats);
  EXPECT_EQ(FindInt(stats, "hub_conflated"), 0) << Str(stats);
}

// ?throttle_ms=200: at most one book per symbol per 200 ms, the latest wins;
// a client without it on the same gateway gets every book.
TEST(ThrottleTest, ThrottledClientGetsFewBooksAndTheLatestLast) {
  OBGW_START_GATEWAY(gw, {});
  const int port = gw->http_port();
  const std::vector<std::string> symbols = {"TA", "TB"};
  constexpr int kBooks = 50;
  constexpr int kThrottleMs = 200;
  WsTestClient throttled;
  ASSERT_TRUE(
      throttled.ConnectTarget(port, "/ws/slowpoke?throttle_ms=" + std::to_string(kThrottleMs)))
      << throttled.error();
  WsTestClient full;
  ASSERT_TRUE(full.Connect(port, "full")) << full.error();
  for (WsTestClient* client : {&throttled, &full}) {
    ASSERT_TRUE(client->SendText(R"({"action":"subscribe","symbols":["TA","TB"]})"));
    for (const std::string& symbol : symbols) {
      json::object confirmation;
      ASSERT_TRUE(NextIs(*client, "subscription_confirmed", symbol, &confirmation));
    }
  }

  struct Got {
    std::map<std::string, std::vector<std::int64_t>> seqs;
    std::map<std::string, std::vector<std::int64_t>> ns;
    std::string failure;
  };
  auto read_until_last = [&symbols](WsTestClient& client, Got& got) {
    auto deadline = Clock::now() + std::chrono::seconds(10);
    auto done = [&] {
      for (const std::string& s : symbols) {
        if (got.ns[s].empty() || got.ns[s].back() != kBooks) return false;
      }
      return true;
    };
    while (!done()) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      std::optional<json::object> update = client.ReadJson(std::max(left, milliseconds(0)));
      if (!update) {
        got.failure = "no last book: " + client.error();
        return;
      }
      const json::value* s = update->if_contains("symbol");
      if (TypeOf(*update) != "orderbook_update" || s == nullptr || !s->is_string()) {
        got.failure = "unexpected message: " + Str(*update);
        return;
      }
      std::string symbol(s->as_string());
      got.seqs[symbol].push_back(FindInt(*update, "seq").value_or(-1));
      got.ns[symbol].push_back(FindInt(*update, "data.n").value_or(-1));
    }
  };
  Got throttled_got, full_got;
  std::thread throttled_reader([&] { read_until_last(throttled, throttled_got); });
  std::thread full_reader([&] { read_until_last(full, full_got); });

  // 50 books per symbol over about half a second.
  auto start = Clock::now();
  for (int n = 1; n <= kBooks; ++n) {
    for (const std::string& symbol : symbols) {
      HttpResponse response = PostBook(port, symbol, R"({"n":)" + std::to_string(n) + "}");
      EXPECT_EQ(response.status, 200) << response.Describe();
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  auto publish_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
  throttled_reader.join();
  full_reader.join();
  ASSERT_TRUE(full_got.failure.empty()) << full_got.failure;
  ASSERT_TRUE(throttled_got.failure.empty()) << throttled_got.failure;

  // Within the publishing time the throttle lets through at most one book
  // per interval (plus the first), and one more after it: the latest. One
  // more for the hop between the publisher's clock and the session's.
  const std::int64_t most = publish_ms / kThrottleMs + 3;
  std::int64_t throttled_total = 0;
  for (const std::string& symbol : symbols) {
    SCOPED_TRACE(symbol + ", published in " + std::to_string(publish_ms) + " ms");
    // Unthrottled: every book, in order.
    std::vector<std::int64_t> all(kBooks);
    for (int i = 0; i < kBooks; ++i) all[i] = i + 1;
    EXPECT_EQ(full_got.seqs[symbol], all);
    EXPECT_EQ(full_got.ns[symbol], all);
    // Throttled: a few books, increasing, the last one published last.
    const std::vector<std::int64_t>& seqs = throttled_got.seqs[symbol];
    const std::vector<std::int64_t>& ns = throttled_got.ns[symbol];
    std::printf("[ info ] throttled client got %zu of %d %s books\n", seqs.size(), kBooks,
                symbol.c_str());
    EXPECT_GE(seqs.size(), 2u);
    EXPECT_LE(static_cast<std::int64_t>(seqs.size()), most);
    EXPECT_LT(seqs.size(), static_cast<std::size_t>(kBooks));
    EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()) &&
                std::adjacent_find(seqs.begin(), seqs.end()) == seqs.end())
        << ::testing::PrintToString(seqs);
    ASSERT_FALSE(ns.empty());
    EXPECT_EQ(ns.front(), 1) << "the first book goes out at once";
    EXPECT_EQ(ns.back(), kBooks) << ::testing::PrintToString(ns);
    EXPECT_EQ(seqs.back(), kBooks) << ::testing::PrintToString(seqs);
    throttled_total += static_cast<std::int64_t>(seqs.size());
  }
  // Every book the throttled client did not get was replaced while waiting.
  EXPECT_TRUE(NothingMore(throttled));
  std::int64_t replaced = 2 * kBooks - throttled_total;
  json::value stats = WaitForStat(port, "messages_throttled", replaced);
  EXPECT_EQ(FindInt(stats, "messages_throttled"), replaced) << Str(stats);
}

}  // namespace
}  // namespace obgw::testing
