// Sessions on one node (no Redis): a client_id that reconnects gets its
// subscriptions back (session_restored, then each snapshot, then live books)
// without subscribing; ?restore=0 opts out; the guide's client, which
// resubscribes in onopen anyway, gets its confirmations and no duplicate
// book; the session lasts --session_ttl_ms after the last connection; only
// the id's only connection gets it. The per-client_id limit is limits_test's.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "http_test_client.h"
#include "test_util.h"
#include "ws_test_client.h"

namespace obgw::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

// Book number `n` (a field of its own, so each published book is told apart).
std::string BookBody(int n) {
  return R"({"bids":[],"asks":[],"timestamp":"2024-01-01T12:00:00Z","n":)" + std::to_string(n) +
         "}";
}

// The next message is an orderbook_update of `symbol` carrying book `n`,
// a snapshot or not.
::testing::AssertionResult NextIsBook(WsTestClient& client, std::string_view symbol, int n,
                                      bool snapshot) {
  std::optional<json::object> message = client.ReadJson();
  if (!message) return ::testing::AssertionFailure() << "no message: " << client.error();
  const json::value data = Field(*message, "data");
  if (TypeOf(*message) != "orderbook_update" || Field(*message, "symbol") != json::value(symbol) ||
      !data.is_object() || FindInt(data, "n") != n ||
      (Field(*message, "snapshot") == json::value(true)) != snapshot) {
    return ::testing::AssertionFailure() << "expected " << (snapshot ? "snapshot " : "book ") << n
                                         << " of " << symbol << ", got " << Str(*message);
  }
  return ::testing::AssertionSuccess();
}

// The next two messages are live book `n` of AAPL and of MSFT, in either
// order: books of different symbols published over different connections are
// ordered per producer only (docs/protocol.md 2.4).
::testing::AssertionResult NextAreLiveBooksOfAaplAndMsft(WsTestClient& client, int n) {
  std::vector<std::string> seen;
  for (int i = 0; i < 2; ++i) {
    std::optional<json::object> message = client.ReadJson();
    if (!message) return ::testing::AssertionFailure() << "no message: " << client.error();
    const json::value data = Field(*message, "data");
    const json::value symbol = Field(*message, "symbol");
    if (TypeOf(*message) != "orderbook_update" || !symbol.is_string() || !data.is_object() ||
        FindInt(data, "n") != n || Field(*message, "snapshot") == json::value(true)) {
      return ::testing::AssertionFailure()
             << "expected live book " << n << ", got " << Str(*message);
    }
    seen.emplace_back(symbol.as_string());
  }
  std::sort(seen.begin(), seen.end());
  if (seen != std::vector<std::string>{"AAPL", "MSFT"}) {
    return ::testing::AssertionFailure()
           << "expected one book each of AAPL and MSFT, got " << seen[0] << " and " << seen[1];
  }
  return ::testing::AssertionSuccess();
}

// The next message is {"type":"session_restored","symbols":expected}.
::testing::AssertionResult NextIsRestored(WsTestClient& client, std::string_view expected) {
  std::optional<json::object> message = client.ReadJson();
  if (!message) return ::testing::AssertionFailure() << "no message: " << client.error();
  if (TypeOf(*message) != "session_restored" ||
      Field(*message, "symbols") != json::parse(expected)) {
    return ::testing::AssertionFailure()
           << "expected session_restored " << expected << ", got " << Str(*message);
  }
  return ::testing::AssertionSuccess();
}

// Nothing came before the reply to a ping: no session_restored, no book.
::testing::AssertionResult NextIsPong(WsTestClient& client) {
  if (!client.SendText(R"({"action":"ping"})")) {
    return ::testing::AssertionFailure() << "send: " << client.error();
  }
  std::optional<json::object> message = client.ReadJson();
  if (!message) return ::testing::AssertionFailure() << "no message: " << client.error();
  if (TypeOf(*message) != "pong") return ::testing::AssertionFailure() << Str(*message);
  return ::testing::AssertionSuccess();
}

class SessionTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args = {}) {
    std::string error;
    gw_ = StartGateway(args, &error);
    ASSERT_NE(gw_, nullptr) << error;
    port_ = gw_->http_port();
  }

  // Publishes book `n` of `symbol`, reaching `subscribers` connections.
  ::testing::AssertionResult Publish(std::string_view symbol, int n, std::int64_t subscribers) {
    return IsBroadcastSuccess(PostBook(port_, symbol, BookBody(n)), symbol, subscribers);
  }

  // Closes `client` and waits until the gateway has let go of every
  // connection (the store's Close comes before the gauge drops).
  void CloseAndWait(WsTestClient& client, std::int64_t still_open = 0) {
    ASSERT_TRUE(client.Close()) << client.error();
    json::value stats = WaitForStat(port_, "active_connections", still_open);
    ASSERT_EQ(FindInt(stats, "active_connections"), still_open) << Str(stats);
  }

  // A client of `id` subscribed to AAPL and MSFT, with book 1 of each
  // published, then closed.
  void SubscribeAndLeave(std::string_view id) {
    WsTestClient client;
    ASSERT_TRUE(client.Connect(port_, id)) << client.error();
    std::string error;
    ASSERT_TRUE(Subscribe(client, "AAPL", &error)) << error;
    ASSERT_TRUE(Subscribe(client, "MSFT", &error)) << error;
    ASSERT_TRUE(Publish("AAPL", 1, 1));
    ASSERT_TRUE(Publish("MSFT", 1, 1));
    ASSERT_TRUE(NextAreLiveBooksOfAaplAndMsft(client, 1));
    CloseAndWait(client);
    // The hub has counted the unsubscriptions too (they reach it through
    // the queue, not in step with a REST publish from another thread), so
    // a book published now reports no subscriber.
    json::value stats = WaitForStat(port_, "symbols", 0);
    ASSERT_EQ(FindInt(stats, "symbols"), 0) << Str(stats);
  }

  std::unique_ptr<GatewayProcess> gw_;
  int port_ = 0;
};

TEST_F(SessionTest, ReconnectGetsSessionRestoredSnapshotsAndLiveBooksWithoutSubscribing) {
  Start();
  SubscribeAndLeave("trader");
  ASSERT_TRUE(Publish("MSFT", 2, 0));  // While away: the snapshot is the newest.

  WsTestClient client;
  ASSERT_TRUE(client.Connect(port_, "trader")) << client.error();
  EXPECT_TRUE(NextIsRestored(client, R"(["AAPL","MSFT"])"));
  EXPECT_TRUE(NextIsBook(client, "AAPL", 1, true));
  EXPECT_TRUE(NextIsBook(client, "MSFT", 2, true));
  // Live: both symbols are subscribed again without a subscribe.
  EXPECT_TRUE(Publish("AAPL", 3, 1));
  EXPECT_TRUE(Publish("MSFT", 3, 1));
  EXPECT_TRUE(NextAreLiveBooksOfAaplAndMsft(client, 3));
  ASSERT_TRUE(client.SendText(R"({"action":"list_subscriptions"})"));
  std::optional<json::object> list = client.ReadJson();
  ASSERT_TRUE(list) << client.error();
  EXPECT_EQ(Field(*list, "symbols"), json::parse(R"(["AAPL","MSFT"])")) << Str(*list);

  json::value stats = GetStats(port_);
  EXPECT_EQ(FindInt(stats, "sessions_restored"), 1) << Str(stats);
  EXPECT_EQ(FindInt(stats, "symbols_restored"), 2) << Str(stats);
  EXPECT_EQ(FindInt(stats, "total_subscriptions"), 2) << Str(stats);
}

TEST_F(SessionTest, UnsubscribedSymbolsAreNotRestored) {
  Start();
  WsTestClient first;
  ASSERT_TRUE(first.Connect(port_, "trader")) << first.error();
  std::string error;
  ASSERT_TRUE(Subscribe(first, "AAPL", &error)) << error;
  ASSERT_TRUE(Subscribe(first, "MSFT", &error)) << error;
  ASSERT_TRUE(Unsubscribe(first, "AAPL", &error)) << error;
  CloseAndWait(first);

  WsTestClient second;
  ASSERT_TRUE(second.Connect(port_, "trader")) << second.error();
  EXPECT_TRUE(NextIsRestored(second, R"(["MSFT"])"));
  EXPECT_TRUE(NextIsPong(second));  // MSFT has no book yet: no snapshot.
}

TEST_F(SessionTest, RestoreZeroRestoresNothingAndStartsTheSessionAfresh) {
  Start();
  SubscribeAndLeave("trader");

  WsTestClient client;
  ASSERT_TRUE(client.ConnectTarget(port_, "/ws/trader?restore=0")) << client.error();
  EXPECT_TRUE(NextIsPong(client));
  EXPECT_TRUE(Publish("AAPL", 2, 0));  // Not subscribed.
  std::string error;
  ASSERT_TRUE(Subscribe(client, "TSLA", &error)) << error;
  CloseAndWait(client);

  // The session is now what that connection subscribed.
  WsTestClient later;
  ASSERT_TRUE(later.Connect(port_, "trader")) << later.error();
  EXPECT_TRUE(NextIsRestored(later, R"(["TSLA"])"));
  EXPECT_TRUE(NextIsPong(later));
  EXPECT_EQ(FindInt(GetStats(port_), "sessions_restored"), 1);
}

// The guide's WebSocketClient subscribes again in onopen: it gets a
// confirmation for each symbol, no second subscription and exactly one copy
// of each book.
TEST_F(SessionTest, GuideClientThatResubscribesGetsConfirmationsAndNoDuplicateBooks) {
  Start();
  SubscribeAndLeave("chart-AAPL");

  WsTestClient client;
  ASSERT_TRUE(client.Connect(port_, "chart-AAPL")) << client.error();
  ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbol":"AAPL"})"));
  ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbol":"MSFT"})"));
  EXPECT_TRUE(NextIsRestored(client, R"(["AAPL","MSFT"])"));
  EXPECT_TRUE(NextIsBook(client, "AAPL", 1, true));
  EXPECT_TRUE(NextIsBook(client, "MSFT", 1, true));
  for (std::string_view symbol : {"AAPL", "MSFT"}) {
    std::optional<json::object> reply = client.ReadJson();
    ASSERT_TRUE(reply) << client.error();
    EXPECT_EQ(TypeOf(*reply), "subscription_confirmed") << Str(*reply);
    EXPECT_EQ(Field(*reply, "symbol"), json::value(symbol)) << Str(*reply);
  }
  // One subscription each: the publish reaches one connection, once.
  EXPECT_TRUE(Publish("AAPL", 2, 1));
  EXPECT_TRUE(Publish("MSFT", 2, 1));
  EXPECT_TRUE(NextAreLiveBooksOfAaplAndMsft(client, 2));
  EXPECT_TRUE(NextIsPong(client));  // Nothing else was queued.
  EXPECT_EQ(FindInt(GetStats(port_), "total_subscriptions"), 2);
}

TEST_F(SessionTest, NothingIsRestoredOnceTheTtlHasRunOut) {
  constexpr milliseconds kTtl{300};
  Start({"--session_ttl_ms=" + std::to_string(kTtl.count())});
  SubscribeAndLeave("trader");
  // Within the TTL the session is there (reconnect, leave again)...
  {
    WsTestClient client;
    ASSERT_TRUE(client.Connect(port_, "trader")) << client.error();
    EXPECT_TRUE(NextIsRestored(client, R"(["AAPL","MSFT"])"));
    CloseAndWait(client);
  }
  // ...once the TTL has passed since the last close it is gone. Time itself
  // is what is tested here, so the test waits for it.
  std::this_thread::sleep_for(kTtl + milliseconds(200));
  WsTestClient client;
  ASSERT_TRUE(client.Connect(port_, "trader")) << client.error();
  EXPECT_TRUE(NextIsPong(client));
  EXPECT_EQ(FindInt(GetStats(port_), "sessions_restored"), 1);
}

TEST_F(SessionTest, ASecondConcurrentConnectionGetsNothingRestoredButAddsToTheSession) {
  Start();
  SubscribeAndLeave("desk");
  WsTestClient first;
  ASSERT_TRUE(first.Connect(port_, "desk")) << first.error();
  EXPECT_TRUE(NextIsRestored(first, R"(["AAPL","MSFT"])"));
  EXPECT_TRUE(NextIsBook(first, "AAPL", 1, true));
  EXPECT_TRUE(NextIsBook(first, "MSFT", 1, true));

  WsTestClient second;  // The id's second tab.
  ASSERT_TRUE(second.Connect(port_, "desk")) << second.error();
  EXPECT_TRUE(NextIsPong(second));
  std::string error;
  ASSERT_TRUE(Subscribe(second, "TSLA", &error)) << error;
  CloseAndWait(second, 1);
  CloseAndWait(first);

  // The session is the id's: what either tab subscribed.
  WsTestClient again;
  ASSERT_TRUE(again.Connect(port_, "desk")) << again.error();
  EXPECT_TRUE(NextIsRestored(again, R"(["AAPL","MSFT","TSLA"])"));
}

TEST_F(SessionTest, RestoreIsCappedByTheSubscriptionLimit) {
  Start({"--max_subscriptions=2"});
  {
    // Two tabs fill the id's session with four symbols, two each.
    WsTestClient first, second;
    ASSERT_TRUE(first.Connect(port_, "many")) << first.error();
    ASSERT_TRUE(second.Connect(port_, "many")) << second.error();
    std::string error;
    ASSERT_TRUE(Subscribe(first, "D", &error)) << error;
    ASSERT_TRUE(Subscribe(first, "C", &error)) << error;
    ASSERT_TRUE(Subscribe(second, "B", &error)) << error;
    ASSERT_TRUE(Subscribe(second, "A", &error)) << error;
    CloseAndWait(first, 1);
    CloseAndWait(second);
  }
  for (int reconnect = 0; reconnect < 2; ++reconnect) {
    // The first two in order; the others leave the session.
    WsTestClient client;
    ASSERT_TRUE(client.Connect(port_, "many")) << client.error();
    EXPECT_TRUE(NextIsRestored(client, R"(["A","B"])")) << reconnect;
    EXPECT_TRUE(NextIsPong(client));
    CloseAndWait(client);
  }
}

}  // namespace
}  // namespace obgw::testing
