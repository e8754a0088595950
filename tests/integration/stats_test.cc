// GET /health and GET /stats: shape, and that the counters follow what
// clients and publishers do.

#include <chrono>
#include <set>
#include <string>

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

TEST(StatsTest, HealthIsHealthy) {
  OBGW_START_GATEWAY(gw, {});
  HttpResponse response = HttpGet(gw->http_port(), "/health");
  ASSERT_EQ(response.status, 200) << response.Describe();
  EXPECT_NE(response.Header("content-type").find("application/json"), std::string::npos)
      << response.Header("content-type");
  json::value body = response.Json();
  ASSERT_TRUE(body.is_object()) << response.Describe();
  EXPECT_EQ(body.at("status"), "healthy") << response.Describe();
  // The legacy middleware's field, same format.
  ASSERT_TRUE(body.as_object().contains("timestamp")) << response.Describe();
  EXPECT_TRUE(body.at("timestamp").is_string()) << response.Describe();
  EXPECT_TRUE(std::string(body.at("timestamp").as_string()).ends_with("+00:00"))
      << response.Describe();
}

TEST(StatsTest, OnlyGetIsAllowedOnHealthAndStats) {
  OBGW_START_GATEWAY(gw, {});
  for (const char* method : {"POST", "PUT", "DELETE"}) {
    HttpResponse response = HttpRequest(gw->http_port(), method, "/stats", "");
    EXPECT_EQ(response.status, 405) << method << ": " << response.Describe();
    EXPECT_EQ(response.Header("allow"), "GET, HEAD") << response.Describe();
  }
  // The connection-per-request client reads whole responses: still healthy.
  EXPECT_EQ(HttpGet(gw->http_port(), "/health").status, 200);
}

TEST(StatsTest, StatsHasEveryField) {
  const auto before_start = std::chrono::steady_clock::now();
  OBGW_START_GATEWAY(gw, {});
  HttpResponse response = HttpGet(gw->http_port(), "/stats");
  const std::chrono::duration<double> since_start = std::chrono::steady_clock::now() - before_start;
  ASSERT_EQ(response.status, 200) << response.Describe();
  EXPECT_NE(response.Header("content-type").find("application/json"), std::string::npos)
      << response.Header("content-type");
  json::value stats = response.Json();
  ASSERT_TRUE(stats.is_object()) << response.Describe();
  for (std::string_view key :
       {"active_connections", "total_subscriptions", "symbols", "messages_sent", "messages_dropped",
        "queue_depth", "ingest.grpc_accepted", "ingest.grpc_rejected", "ingest.rest_accepted",
        "ingest.rest_rejected"}) {
    std::optional<std::int64_t> value = FindInt(stats, key);
    ASSERT_TRUE(value) << key << " missing or not an integer: " << Str(stats);
    EXPECT_EQ(*value, 0) << key << " on a fresh gateway: " << Str(stats);
  }
  const json::value* ws_errors = Find(stats, "ws_errors");
  if (ws_errors == nullptr) ws_errors = Find(stats, "ingest.ws_errors");
  ASSERT_NE(ws_errors, nullptr) << "ws_errors missing: " << Str(stats);
  EXPECT_EQ(FindInt(*ws_errors, ""), 0) << Str(stats);
  const json::value* uptime = Find(stats, "uptime_seconds");
  ASSERT_NE(uptime, nullptr) << Str(stats);
  ASSERT_TRUE(uptime->is_number()) << Str(stats);
  EXPECT_GE(uptime->to_number<double>(), 0.0) << Str(stats);
  // The gateway started after `before_start` (one monotonic clock for both).
  EXPECT_LE(uptime->to_number<double>(), since_start.count()) << Str(stats);
}

TEST(StatsTest, CountersFollowClientsAndPublishers) {
  OBGW_START_GATEWAY(gw, {});
  const int port = gw->http_port();
  WsTestClient a;
  WsTestClient b;
  ASSERT_TRUE(a.Connect(port, "stats-a")) << a.error();
  ASSERT_TRUE(b.Connect(port, "stats-b")) << b.error();
  json::value stats = WaitForStat(port, "active_connections", 2);
  EXPECT_EQ(FindInt(stats, "active_connections"), 2) << Str(stats);

  std::string error;
  ASSERT_TRUE(Subscribe(a, "AAPL", &error)) << error;
  ASSERT_TRUE(Subscribe(a, "MSFT", &error)) << error;
  ASSERT_TRUE(Subscribe(b, "AAPL", &error)) << error;
  stats = WaitForStat(port, "total_subscriptions", 3);
  EXPECT_EQ(FindInt(stats, "total_subscriptions"), 3) << Str(stats);

  // Publish to both symbols so "symbols" is 2 whether it counts subscribed
  // symbols or known books.
  std::int64_t sent_before = FindInt(stats, "messages_sent").value_or(-1);
  ASSERT_GE(sent_before, 0) << Str(stats);
  ASSERT_EQ(PostBook(port, "AAPL", R"({"bids":[],"asks":[]})").status, 200);
  ASSERT_EQ(PostBook(port, "MSFT", R"({"bids":[],"asks":[]})").status, 200);
  // Published over two connections, the two books may reach `a` in either
  // order (protocol.md 2.4: FIFO per producer): reading AAPL first skipped an
  // MSFT that came first, and failed twice under load.
  std::set<std::string> seen;
  for (int i = 0; i < 2; ++i) {
    std::optional<json::object> update = a.ReadJson();
    ASSERT_TRUE(update) << a.error();
    ASSERT_EQ(TypeOf(*update), "orderbook_update") << Str(*update);
    seen.insert(std::string(Field(*update, "symbol").as_string()));
  }
  EXPECT_EQ(seen, (std::set<std::string>{"AAPL", "MSFT"}));
  ASSERT_TRUE(ReadUpdate(b, "AAPL")) << b.error();
  stats = WaitForStat(port, "messages_sent", sent_before + 3);
  EXPECT_GE(FindInt(stats, "messages_sent").value_or(-1), sent_before + 3) << Str(stats);
  EXPECT_EQ(FindInt(stats, "symbols"), 2) << Str(stats);
  EXPECT_EQ(FindInt(stats, "messages_dropped"), 0) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ingest.rest_accepted"), 2) << Str(stats);

  // REST rejections and gRPC are counted apart.
  ASSERT_EQ(PostBook(port, "AAPL", "not json").status, 400);
  ASSERT_EQ(PostBook(port, "A%20B", "{}").status, 422);
  PublishResult result =
      PublishStream(gw->grpc_target(), {MakeUpdate("AAPL", 1), MakeUpdate("bad sym", 2)});
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  stats = WaitForStat(port, "ingest.grpc_rejected", 1);
  EXPECT_EQ(FindInt(stats, "ingest.rest_accepted"), 2) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ingest.rest_rejected"), 2) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ingest.grpc_accepted"), 1) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ingest.grpc_rejected"), 1) << Str(stats);

  // An error reply counts as a ws error.
  ASSERT_TRUE(b.SendText("nope")) << b.error();
  ASSERT_TRUE(b.ReadUntilType("error")) << b.error();
  stats = GetStats(port);
  const json::value* ws_errors = Find(stats, "ws_errors");
  if (ws_errors == nullptr) ws_errors = Find(stats, "ingest.ws_errors");
  ASSERT_NE(ws_errors, nullptr) << Str(stats);
  EXPECT_EQ(FindInt(*ws_errors, ""), 1) << Str(stats);

  // Unsubscribe and disconnect are reflected.
  ASSERT_TRUE(Unsubscribe(a, "MSFT", &error)) << error;
  stats = WaitForStat(port, "total_subscriptions", 2);
  EXPECT_EQ(FindInt(stats, "total_subscriptions"), 2) << Str(stats);
  ASSERT_TRUE(a.Close()) << a.error();
  stats = WaitForStat(port, "active_connections", 1);
  EXPECT_EQ(FindInt(stats, "active_connections"), 1) << Str(stats);
  stats = WaitForStat(port, "total_subscriptions", 1);
  EXPECT_EQ(FindInt(stats, "total_subscriptions"), 1) << Str(stats);
  b.Abort();  // Without a closing handshake.
  stats = WaitForStat(port, "active_connections", 0);
  EXPECT_EQ(FindInt(stats, "active_connections"), 0) << Str(stats);
  stats = WaitForStat(port, "total_subscriptions", 0);
  EXPECT_EQ(FindInt(stats, "total_subscriptions"), 0) << Str(stats);
}

}  // namespace
}  // namespace obgw::testing
