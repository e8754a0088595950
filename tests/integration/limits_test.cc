// Every per-connection and per-node limit answers as documented, and the
// heartbeats find silent clients: subscription limit (all or nothing for a
// list), connections per client_id (1008) and per node (1013), the message
// rate limit, handshake refusals (invalid throttle_ms / client_id), ping and
// idle timeout. The inbound frame size (1009) is covered by bad_input_test.

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "http_test_client.h"
#include "raw_ws_client.h"
#include "test_util.h"
#include "ws_test_client.h"

namespace obgw::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// The server closed `client` with `code` and `reason` (within 5 s).
::testing::AssertionResult ClosedWith(WsTestClient& client, int code, std::string_view reason) {
  if (!client.WaitForClose()) {
    return ::testing::AssertionFailure() << "still open: " << client.error();
  }
  if (client.close_code() != code || client.close_reason() != reason) {
    return ::testing::AssertionFailure() << "closed with " << client.close_code() << " \""
                                         << client.close_reason() << "\": " << client.error();
  }
  return ::testing::AssertionSuccess();
}

// `client` is open and served: a ping gets its pong.
::testing::AssertionResult Served(WsTestClient& client) {
  if (!client.SendText(R"({"action":"ping","req_id":"alive"})")) {
    return ::testing::AssertionFailure() << "send: " << client.error();
  }
  std::optional<json::object> reply = ReadReply(client);
  if (!reply) return ::testing::AssertionFailure() << "no pong: " << client.error();
  if (TypeOf(*reply) != "pong") return ::testing::AssertionFailure() << Str(*reply);
  return ::testing::AssertionSuccess();
}

TEST(LimitsTest, SubscriptionLimitRefusesAWholeListThatDoesNotFit) {
  OBGW_START_GATEWAY(gw, {"--max_subscriptions=3"});
  const int port = gw->http_port();
  WsTestClient client;
  ASSERT_TRUE(client.Connect(port, "lister")) << client.error();
  ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbols":["A","B"],"req_id":1})"));
  for (std::string_view symbol : {"A", "B"}) {
    std::optional<json::object> reply = client.ReadJson();
    ASSERT_TRUE(reply) << client.error();
    EXPECT_EQ(TypeOf(*reply), "subscription_confirmed") << Str(*reply);
    EXPECT_EQ(Field(*reply, "symbol"), json::value(symbol)) << Str(*reply);
  }
  // Two more do not fit in the one slot left: neither is subscribed.
  ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbols":["C","D"],"req_id":2})"));
  std::optional<json::object> reply = client.ReadJson();
  ASSERT_TRUE(reply) << client.error();
  EXPECT_EQ(TypeOf(*reply), "error") << Str(*reply);
  EXPECT_EQ(Field(*reply, "code"), json::value("subscription_limit")) << Str(*reply);
  EXPECT_EQ(FindInt(*reply, "req_id"), 2) << Str(*reply);
  ASSERT_TRUE(client.SendText(R"({"action":"list_subscriptions"})"));
  reply = client.ReadJson();
  ASSERT_TRUE(reply) << client.error();
  EXPECT_EQ(Field(*reply, "symbols"), json::parse(R"(["A","B"])")) << Str(*reply);
  EXPECT_TRUE(IsBroadcastSuccess(PostBook(port, "C", kGuideBody), "C", 0));
  EXPECT_TRUE(IsBroadcastSuccess(PostBook(port, "D", kGuideBody), "D", 0));

  // A symbol already held does not count: A + C fits exactly.
  ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbols":["A","C"],"req_id":3})"));
  for (std::string_view symbol : {"A", "C"}) {
    reply = client.ReadJson();
    ASSERT_TRUE(reply) << client.error();
    EXPECT_EQ(TypeOf(*reply), "subscription_confirmed") << Str(*reply);
    EXPECT_EQ(Field(*reply, "symbol"), json::value(symbol)) << Str(*reply);
    EXPECT_EQ(FindInt(*reply, "req_id"), 3) << Str(*reply);
  }
  // C was published before: its snapshot follows its confirmation.
  reply = client.ReadJson();
  ASSERT_TRUE(reply) << client.error();
  EXPECT_EQ(TypeOf(*reply), "orderbook_update") << Str(*reply);
  EXPECT_EQ(Field(*reply, "symbol"), json::value("C")) << Str(*reply);
  EXPECT_EQ(Field(*reply, "snapshot"), json::value(true)) << Str(*reply);
  // Full now: a single new symbol is refused too.
  ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbol":"E"})"));
  reply = client.ReadJson();
  ASSERT_TRUE(reply) << client.error();
  EXPECT_EQ(Field(*reply, "code"), json::value("subscription_limit")) << Str(*reply);
  EXPECT_FALSE(reply->contains("req_id")) << Str(*reply);
  json::value stats = WaitForStat(port, "total_subscriptions", 3);
  EXPECT_EQ(FindInt(stats, "total_subscriptions"), 3) << Str(stats);
}

TEST(LimitsTest, ConnectionsPerClientIdOverTheLimitAreClosedWith1008UntilOneCloses) {
  OBGW_START_GATEWAY(gw, {"--max_connections_per_client=2"});
  const int port = gw->http_port();
  WsTestClient first, second, third;
  ASSERT_TRUE(first.Connect(port, "alice")) << first.error();
  ASSERT_TRUE(second.Connect(port, "alice")) << second.error();
  // Accepted (the handshake completes), then closed with a reason.
  ASSERT_TRUE(third.Connect(port, "alice")) << third.error();
  EXPECT_TRUE(ClosedWith(third, 1008, "Connection limit exceeded"));
  EXPECT_TRUE(Served(first));
  EXPECT_TRUE(Served(second));
  // Another client_id has its own budget.
  WsTestClient bob;
  ASSERT_TRUE(bob.Connect(port, "bob")) << bob.error();
  EXPECT_TRUE(Served(bob));

  // Closing one of alice's connections frees its slot.
  ASSERT_TRUE(first.Close()) << first.error();
  json::value stats = WaitForStat(port, "active_connections", 2);
  ASSERT_EQ(FindInt(stats, "active_connections"), 2) << Str(stats);
  WsTestClient fourth;
  ASSERT_TRUE(fourth.Connect(port, "alice")) << fourth.error();
  EXPECT_TRUE(Served(fourth));
  EXPECT_FALSE(fourth.closed()) << fourth.error();
  // An aborted connection (no closing handshake) frees its slot too.
  second.Abort();
  stats = WaitForStat(port, "active_connections", 2);
  ASSERT_EQ(FindInt(stats, "active_connections"), 2) << Str(stats);
  WsTestClient fifth;
  ASSERT_TRUE(fifth.Connect(port, "alice")) << fifth.error();
  EXPECT_TRUE(Served(fifth));
  stats = GetStats(port);
  EXPECT_EQ(FindInt(stats, "ws_refused_connection_limit"), 1) << Str(stats);
}

TEST(LimitsTest, ConnectionsOverTheNodeLimitAreClosedWith1013) {
  OBGW_START_GATEWAY(gw, {"--max_connections=3"});
  const int port = gw->http_port();
  std::vector<std::unique_ptr<WsTestClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<WsTestClient>());
    ASSERT_TRUE(clients[i]->Connect(port, "node-" + std::to_string(i))) << clients[i]->error();
    ASSERT_TRUE(Served(*clients[i]));
  }
  WsTestClient over;
  ASSERT_TRUE(over.Connect(port, "one-too-many")) << over.error();
  EXPECT_TRUE(ClosedWith(over, 1013, "Server connection limit reached"));
  json::value stats = WaitForStat(port, "active_connections", 3);
  EXPECT_EQ(FindInt(stats, "ws_refused_connection_limit"), 1) << Str(stats);
  // HTTP is not limited.
  EXPECT_EQ(HttpGet(port, "/health").status, 200);

  ASSERT_TRUE(clients[0]->Close()) << clients[0]->error();
  stats = WaitForStat(port, "active_connections", 2);
  ASSERT_EQ(FindInt(stats, "active_connections"), 2) << Str(stats);
  WsTestClient again;
  ASSERT_TRUE(again.Connect(port, "one-too-many")) << again.error();
  EXPECT_TRUE(Served(again));
  EXPECT_FALSE(again.closed()) << again.error();
}

TEST(LimitsTest, MessagesOverTheRateAreRefusedThenTheConnectionIsClosed) {
  // A burst of 10, then one message every 2 s: the test sends far faster.
  OBGW_START_GATEWAY(gw, {"--max_messages_per_second=0.5", "--max_message_burst=10"});
  const int port = gw->http_port();
  WsTestClient client;
  ASSERT_TRUE(client.Connect(port, "chatty")) << client.error();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(client.SendText(R"({"action":"ping","req_id":)" + std::to_string(i) + "}"));
  }
  for (int i = 0; i < 10; ++i) {
    std::optional<json::object> reply = client.ReadJson();
    ASSERT_TRUE(reply) << client.error();
    EXPECT_EQ(TypeOf(*reply), "pong") << Str(*reply);
  }
  // Over the rate: refused with an error, and ignored.
  ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbol":"AAPL","req_id":99})"));
  std::optional<json::object> reply = client.ReadJson();
  ASSERT_TRUE(reply) << client.error();
  EXPECT_EQ(TypeOf(*reply), "error") << Str(*reply);
  EXPECT_EQ(Field(*reply, "code"), json::value("rate_limited")) << Str(*reply);
  EXPECT_TRUE(IsBroadcastSuccess(PostBook(port, "AAPL", kGuideBody), "AAPL", 0));

  // Keeping on: after `burst` refusals in a row the gateway hangs up.
  int sent = 0;
  while (sent < 40 && client.SendText(R"({"action":"ping"})")) ++sent;
  int errors = 1;
  while (std::optional<json::object> next = client.ReadJson()) {
    if (TypeOf(*next) == "error" && Field(*next, "code") == "rate_limited") {
      ++errors;
    } else {
      ADD_FAILURE() << "unexpected: " << Str(*next);
    }
  }
  ASSERT_TRUE(client.closed()) << client.error();
  EXPECT_EQ(client.close_code(), 1008) << client.error();
  EXPECT_EQ(client.close_reason(), "rate limit exceeded") << client.error();
  // Refused 1 to 9 got an error; refusal 10 closed the connection.
  EXPECT_EQ(errors, 9);
  json::value stats = WaitForStat(port, "ws_closed_rate_limit", 1);
  EXPECT_EQ(FindInt(stats, "ws_closed_rate_limit"), 1) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ws_rate_limited"), 10) << Str(stats);
  // Other connections have their own bucket.
  WsTestClient calm;
  ASSERT_TRUE(calm.Connect(port, "calm")) << calm.error();
  EXPECT_TRUE(Served(calm));
}

// The upgrade request for `target`, as a browser sends it.
std::string UpgradeRequest(std::string_view target) {
  return "GET " + std::string(target) +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

TEST(LimitsTest, InvalidThrottleOrClientIdIsRefusedWithHttp400) {
  OBGW_START_GATEWAY(gw, {});
  const int port = gw->http_port();
  struct Case {
    std::string target;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"/ws/t?throttle_ms=-1", "invalid_throttle"},
      {"/ws/t?throttle_ms=60001", "invalid_throttle"},
      {"/ws/t?throttle_ms=abc", "invalid_throttle"},
      {"/ws/t?throttle_ms=1.5", "invalid_throttle"},
      {"/ws/t?throttle_ms=10ms", "invalid_throttle"},
      {"/ws/t?throttle_ms=", "invalid_throttle"},
      {"/ws/t?throttle_ms=99999999999999999999", "invalid_throttle"},
      {"/ws/" + std::string(129, 'c'), "invalid_client_id"},
      {"/ws/a%2Fb", "invalid_client_id"},
      {"/ws/a%01b", "invalid_client_id"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.target.substr(0, 60));
    HttpResponse response = RawHttpExchange(port, UpgradeRequest(c.target));
    EXPECT_EQ(response.status, 400) << response.Describe();
    const json::value body = response.Json();  // Find points into it.
    const json::value* code = Find(body, "code");
    EXPECT_TRUE(code != nullptr && *code == json::value(c.code)) << response.Describe();
    // And a WebSocket client sees the refused handshake.
    WsTestClient client;
    EXPECT_FALSE(client.ConnectTarget(port, c.target));
    EXPECT_EQ(client.handshake_status(), 400) << client.error();
  }
  // The bounds themselves are fine.
  for (std::string_view target : {"/ws/t?throttle_ms=0", "/ws/t?throttle_ms=60000"}) {
    WsTestClient client;
    ASSERT_TRUE(client.ConnectTarget(port, target)) << target << ": " << client.error();
    EXPECT_TRUE(Served(client)) << target;
  }
  json::value stats = GetStats(port);
  EXPECT_EQ(FindInt(stats, "connections_total"), 2) << Str(stats);
}

TEST(HeartbeatTest, SilentClientGetsPingsThenIsClosedWith1008IdleTimeout) {
  OBGW_START_GATEWAY(gw, {"--ping_interval_ms=300", "--idle_timeout_ms=1000"});
  const int port = gw->http_port();
  // A raw client: completes the handshake, then never sends a byte (and so
  // never answers a ping).
  RawWsClient silent;
  auto connected = Clock::now();
  ASSERT_TRUE(silent.Connect(port, "/ws/silent")) << silent.error();
  std::optional<RawWsClient::Frame> frame = silent.ReadFrame(std::chrono::seconds(3));
  ASSERT_TRUE(frame) << silent.error();
  // 0x89 0x00: a final ping frame with no payload.
  EXPECT_EQ(frame->opcode, 0x9);
  EXPECT_TRUE(frame->fin);
  EXPECT_EQ(frame->payload, "");
  int pings = 0;
  while (frame && frame->opcode == 0x9) {
    ++pings;
    frame = silent.ReadFrame(std::chrono::seconds(3));
  }
  auto closed_after = std::chrono::duration_cast<milliseconds>(Clock::now() - connected);
  ASSERT_TRUE(frame) << "no close frame after " << pings << " pings: " << silent.error();
  EXPECT_EQ(frame->opcode, 0x8);
  EXPECT_EQ(frame->close_code(), 1008);
  EXPECT_EQ(frame->close_reason(), "idle timeout");
  // Not at the first ping: the idle timeout, not the ping interval, closed
  // it (the gateway's clock is coarse by a quarter of the ping interval).
  EXPECT_GE(closed_after.count(), 700) << pings << " pings";
  // The client never answers the close: the gateway drops the TCP
  // connection on its own.
  EXPECT_TRUE(silent.DrainUntilClosed(std::chrono::seconds(5))) << silent.error();
  json::value stats = WaitForStat(port, "active_connections", 0);
  EXPECT_EQ(FindInt(stats, "active_connections"), 0) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ws_closed_idle"), 1) << Str(stats);
  EXPECT_GE(FindInt(stats, "ws_pings_sent").value_or(0), pings) << Str(stats);
}

TEST(HeartbeatTest, ClientThatAnswersPingsStaysOpenPastTheIdleTimeout) {
  OBGW_START_GATEWAY(gw, {"--ping_interval_ms=300", "--idle_timeout_ms=1000"});
  const int port = gw->http_port();
  WsTestClient quiet;
  ASSERT_TRUE(quiet.Connect(port, "quiet")) << quiet.error();
  std::string error;
  ASSERT_TRUE(Subscribe(quiet, "AAPL", &error)) << error;
  // Reading (and so answering pings, as browsers do) but sending nothing
  // for 2.5 idle timeouts.
  std::optional<std::string> message = quiet.ReadAny(milliseconds(2500));
  EXPECT_FALSE(message) << *message;
  ASSERT_FALSE(quiet.closed()) << quiet.error();
  json::value stats = GetStats(port);
  EXPECT_GE(FindInt(stats, "ws_pings_sent").value_or(0), 2) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ws_closed_idle"), 0) << Str(stats);
  // Still subscribed and served.
  EXPECT_TRUE(IsBroadcastSuccess(PostBook(port, "AAPL", kGuideBody), "AAPL", 1));
  EXPECT_TRUE(ReadUpdate(quiet, "AAPL")) << quiet.error();
  EXPECT_TRUE(Served(quiet));
}

}  // namespace
}  // namespace obgw::testing
