// Sessions and the per-client_id limit across two nodes on one Redis
// (--redis_url), each test with its own redis-server on a free port: a
// client whose node is SIGKILLed reconnects to the other node and has its
// subscriptions, snapshots and live books back within 1 s without
// subscribing; the limit holds across nodes, and a dead node's connections
// stop counting once its lease expires.

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "http_test_client.h"
#include "redis_server.h"
#include "test_util.h"
#include "ws_test_client.h"

namespace obgw::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Book number `n` (a field of its own, so each published book is told apart).
std::string BookBody(int n) { return R"({"bids":[],"asks":[],"n":)" + std::to_string(n) + "}"; }

std::optional<std::int64_t> BookNumber(const json::object& message) {
  const json::value* data = message.if_contains("data");
  return data ? FindInt(*data, "n") : std::nullopt;
}

class ClusterSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    redis_ = RedisServer::Start(&error);
    ASSERT_TRUE(redis_) << error;
  }

  std::unique_ptr<GatewayProcess> StartNode(const std::string& node_id,
                                            std::vector<std::string> args = {}) {
    args.push_back("--redis_url=" + redis_->url());
    args.push_back("--node_id=" + node_id);
    args.push_back("--redis_timeout_ms=300");
    std::string error;
    auto node = StartGateway(args, &error);
    EXPECT_TRUE(node) << error;
    // Healthy, and registered: the node's lease is in Redis.
    if (node) {
      json::value stats = WaitForStat(node->http_port(), "cluster.registry_beats", 1, 5s);
      EXPECT_GE(FindInt(stats, "cluster.registry_beats").value_or(0), 1) << Str(stats);
    }
    return node;
  }

  // The registry of `node` lists `nodes` live nodes.
  ::testing::AssertionResult WaitForNodes(GatewayProcess& node, std::int64_t nodes) {
    json::value stats = WaitForStat(node.http_port(), "cluster.nodes", nodes, 5s);
    if (FindInt(stats, "cluster.nodes") == nodes) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << Str(stats);
  }

  static void Kill(GatewayProcess& node) {
    ::kill(node.process().pid(), SIGKILL);
    ASSERT_TRUE(node.process().WaitForExit(5s).has_value());
  }

  std::unique_ptr<RedisServer> redis_;
};

TEST_F(ClusterSessionTest, ClientOfAKilledNodeGetsItsSessionBackOnTheOtherWithinOneSecond) {
  auto a = StartNode("node-a");
  auto b = StartNode("node-b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(WaitForNodes(*b, 2));
  {
    WsTestClient client;
    ASSERT_TRUE(client.Connect(a->http_port(), "trader")) << client.error();
    std::string error;
    ASSERT_TRUE(Subscribe(client, "AAPL", &error)) << error;
    ASSERT_TRUE(Subscribe(client, "MSFT", &error)) << error;
    ASSERT_TRUE(IsBroadcastSuccess(PostBook(a->http_port(), "AAPL", BookBody(1)), "AAPL", 1));
    ASSERT_TRUE(IsBroadcastSuccess(PostBook(a->http_port(), "MSFT", BookBody(2)), "MSFT", 1));
    for (std::string_view symbol : {"AAPL", "MSFT"}) {
      std::optional<json::object> update = ReadUpdate(client, symbol);
      ASSERT_TRUE(update) << client.error();
    }
    Kill(*a);  // No close: the client's connection just dies with the node.
  }

  // The client reconnects at once, to B, and subscribes to nothing.
  const Clock::time_point reconnect = Clock::now();
  WsTestClient client;
  ASSERT_TRUE(client.Connect(b->http_port(), "trader")) << client.error();
  std::optional<json::object> restored = client.ReadJson();
  ASSERT_TRUE(restored) << client.error();
  EXPECT_EQ(TypeOf(*restored), "session_restored") << Str(*restored);
  EXPECT_EQ(Field(*restored, "symbols"), json::parse(R"(["AAPL","MSFT"])")) << Str(*restored);
  // The last books, which B never saw: from Redis.
  for (auto [symbol, n] : {std::pair<std::string_view, int>{"AAPL", 1}, {"MSFT", 2}}) {
    std::optional<json::object> book = ReadUpdate(client, symbol, 1s);
    ASSERT_TRUE(book) << symbol << ": " << client.error();
    EXPECT_EQ(BookNumber(*book), n) << Str(*book);
    EXPECT_EQ(Field(*book, "snapshot"), json::value(true)) << Str(*book);
  }
  // Live books published to B.
  EXPECT_TRUE(IsBroadcastSuccess(PostBook(b->http_port(), "AAPL", BookBody(3)), "AAPL", 1));
  EXPECT_TRUE(IsBroadcastSuccess(PostBook(b->http_port(), "MSFT", BookBody(4)), "MSFT", 1));
  for (auto [symbol, n] : {std::pair<std::string_view, int>{"AAPL", 3}, {"MSFT", 4}}) {
    std::optional<json::object> book = ReadUpdate(client, symbol, 1s);
    ASSERT_TRUE(book) << symbol << ": " << client.error();
    EXPECT_EQ(BookNumber(*book), n) << Str(*book);
    EXPECT_FALSE(book->contains("snapshot")) << Str(*book);
  }
  const auto took = Clock::now() - reconnect;
  EXPECT_LT(took, 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms";
  json::value stats = GetStats(b->http_port());
  EXPECT_EQ(FindInt(stats, "sessions_restored"), 1) << Str(stats);
  EXPECT_EQ(FindInt(stats, "symbols_restored"), 2) << Str(stats);
  EXPECT_EQ(FindInt(stats, "cluster.session_opens_redis"), 1) << Str(stats);
}

// One connection of the id, on `port`: admitted (a ping is answered) or
// refused (closed with 1008 "Connection limit exceeded").
enum class Verdict { kAdmitted, kRefused, kOther };
Verdict Connect(WsTestClient& client, int port, std::string_view id) {
  if (!client.Connect(port, id)) return Verdict::kOther;
  // A refused connection may be closed before the ping goes out.
  if (client.SendText(R"({"action":"ping","req_id":"limit"})")) {
    for (;;) {
      std::optional<json::object> message = client.ReadJson();
      if (!message) break;
      if (TypeOf(*message) == "pong") return Verdict::kAdmitted;
    }
  } else {
    client.WaitForClose();
  }
  if (client.closed() && client.close_code() == 1008 &&
      client.close_reason() == "Connection limit exceeded") {
    return Verdict::kRefused;
  }
  return Verdict::kOther;
}

TEST_F(ClusterSessionTest, PerClientLimitHoldsAcrossNodesAndADeadNodesConnectionsExpire) {
  auto a = StartNode("node-a", {"--max_connections_per_client=2"});
  auto b = StartNode("node-b", {"--max_connections_per_client=2"});
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(WaitForNodes(*a, 2));
  ASSERT_TRUE(WaitForNodes(*b, 2));
  WsTestClient on_a, on_b;
  ASSERT_EQ(Connect(on_a, a->http_port(), "alice"), Verdict::kAdmitted) << on_a.error();
  ASSERT_EQ(Connect(on_b, b->http_port(), "alice"), Verdict::kAdmitted) << on_b.error();
  {
    WsTestClient third_a, third_b;
    EXPECT_EQ(Connect(third_a, a->http_port(), "alice"), Verdict::kRefused) << third_a.error();
    EXPECT_EQ(Connect(third_b, b->http_port(), "alice"), Verdict::kRefused) << third_b.error();
  }
  json::value stats = WaitForStat(b->http_port(), "cluster.connections", 2);
  EXPECT_EQ(FindInt(stats, "cluster.connections"), 2) << Str(stats);

  // A dies without closing its connection: it counts until A's lease (3 s)
  // expires, then no more.
  Kill(*a);
  const Clock::time_point killed = Clock::now();
  std::optional<Clock::duration> admitted_after;
  while (Clock::now() - killed < 6s) {
    WsTestClient retry;
    Verdict verdict = Connect(retry, b->http_port(), "alice");
    ASSERT_NE(verdict, Verdict::kOther) << retry.error();
    if (verdict == Verdict::kAdmitted) {
      admitted_after = Clock::now() - killed;
      EXPECT_TRUE(retry.Close()) << retry.error();
      break;
    }
    std::this_thread::sleep_for(100ms);  // Retry pacing, like a client's backoff.
  }
  ASSERT_TRUE(admitted_after) << "still refused 6 s after the kill";
  EXPECT_LT(*admitted_after, 3s + 1500ms);  // Lease + one renewal + a retry.
  EXPECT_TRUE(WaitForNodes(*b, 1));
  EXPECT_EQ(FindInt(GetStats(b->http_port()), "cluster.nodes"), 1);
  EXPECT_TRUE(on_b.Close()) << on_b.error();
  stats = WaitForStat(b->http_port(), "active_connections", 0);
  EXPECT_EQ(FindInt(stats, "active_connections"), 0) << Str(stats);
}

// With Redis the store's answer comes after the handshake: a refused client
// that has already sent a message, then answers the close, is let go of at
// once (it once stayed open until the shard's close timeout).
TEST_F(ClusterSessionTest, RefusedConnectionsAreReleasedOnceTheCloseCompletes) {
  auto node = StartNode("node-a", {"--max_connections_per_client=1"});
  ASSERT_TRUE(node);
  WsTestClient first;
  ASSERT_EQ(Connect(first, node->http_port(), "alice"), Verdict::kAdmitted) << first.error();
  for (int i = 0; i < 5; ++i) {
    WsTestClient refused;
    ASSERT_TRUE(refused.Connect(node->http_port(), "alice")) << refused.error();
    refused.SendText(R"({"action":"ping"})");  // Before the refusal: not answered.
    EXPECT_TRUE(refused.WaitForClose()) << refused.error();
    EXPECT_EQ(refused.close_code(), 1008);
  }
  json::value stats = WaitForStat(node->http_port(), "active_connections", 1, 1s);
  EXPECT_EQ(FindInt(stats, "active_connections"), 1) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ws_refused_connection_limit"), 5) << Str(stats);
}

}  // namespace
}  // namespace obgw::testing
