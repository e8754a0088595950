// A client written against the integration guide (its TypeScript
// WebSocketClient and its curl/httpx backend) must work unchanged.

#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "http_test_client.h"
#include "test_util.h"
#include "ws_test_client.h"

namespace obgw::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

// Checks the guide's fields and our additions on one orderbook_update.
void ExpectUpdateShape(const json::object& update, std::string_view symbol) {
  EXPECT_EQ(update.at("type"), "orderbook_update") << Str(update);
  EXPECT_EQ(update.at("symbol"), json::value(symbol)) << Str(update);
  ASSERT_TRUE(update.contains("data")) << Str(update);
  ASSERT_TRUE(update.contains("seq")) << Str(update);
  EXPECT_TRUE(update.at("seq").is_int64() || update.at("seq").is_uint64()) << Str(update);
  EXPECT_GE(FindInt(update, "seq").value_or(0), 1) << Str(update);
  // The gateway timestamp is checked by UpdateTimestampIsGatewayTimeInIsoFormat.
  EXPECT_TRUE(update.contains("timestamp")) << Str(update);
}

TEST(LegacyClientTest, GuideClientReceivesPostedBookVerbatim) {
  OBGW_START_GATEWAY(gw, {});
  // new WebSocketClient(`chart-${symbol}`).connect(); subscribe(symbol)
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "chart-AAPL")) << client.error();
  ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbol":"AAPL"})")) << client.error();
  std::optional<json::object> confirmed = client.ReadJson();
  ASSERT_TRUE(confirmed) << client.error();
  EXPECT_EQ(confirmed->at("type"), "subscription_confirmed") << Str(*confirmed);
  EXPECT_EQ(confirmed->at("symbol"), "AAPL") << Str(*confirmed);

  // curl -X POST "http://localhost:8002/broadcast/orderbook?symbol=AAPL" -d '...'
  HttpResponse response = PostBook(gw->http_port(), "AAPL", kGuideBody);
  ASSERT_TRUE(IsBroadcastSuccess(response, "AAPL", 1));

  std::optional<std::string> raw = client.Read();
  ASSERT_TRUE(raw) << client.error();
  EXPECT_FALSE(client.last_was_binary());
  json::value message = json::parse(*raw);
  ASSERT_TRUE(message.is_object()) << *raw;
  ExpectUpdateShape(message.as_object(), "AAPL");
  EXPECT_EQ(FindInt(message, "seq"), 1) << *raw;
  EXPECT_EQ(message.at("data"), json::parse(kGuideBody)) << *raw;
  // Forwarded verbatim: the body's bytes are in the frame as they were posted.
  EXPECT_NE(raw->find(std::string("\"data\":") + std::string(kGuideBody)), std::string::npos)
      << *raw;
  EXPECT_TRUE(client.Close()) << client.error();
}

TEST(LegacyClientTest, UpdateTimestampIsGatewayTimeInIsoFormat) {
  OBGW_START_GATEWAY(gw, {});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "chart-AAPL")) << client.error();
  std::string error;
  ASSERT_TRUE(Subscribe(client, "AAPL", &error)) << error;
  const std::int64_t posted_ms = NowUnixMillis();
  ASSERT_EQ(PostBook(gw->http_port(), "AAPL", kGuideBody).status, 200);
  std::optional<json::object> update = ReadUpdate(client, "AAPL");
  const std::int64_t received_ms = NowUnixMillis();
  ASSERT_TRUE(update) << client.error();
  const json::object& message = *update;
  ASSERT_TRUE(message.contains("timestamp")) << Str(message);
  const json::value& ts = message.at("timestamp");
  // As the legacy middleware sent it: Python's isoformat() of UTC now,
  // e.g. "2024-01-01T12:00:00.123456+00:00".
  ASSERT_TRUE(ts.is_string()) << "timestamp must be an ISO 8601 string: " << Str(message);
  std::string text(ts.as_string());
  std::tm tm{};
  int micros = -1;
  char zone[8] = {};
  ASSERT_EQ(std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6d%7s", &tm.tm_year, &tm.tm_mon,
                        &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &micros, zone),
            8)
      << text;
  EXPECT_STREQ(zone, "+00:00") << text;
  EXPECT_EQ(text.size(), 32u) << text;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::int64_t millis = static_cast<std::int64_t>(timegm(&tm)) * 1000 + micros / 1000;
  // Gateway time (the same clock as ours), taken while the book was on its
  // way: after the post, before the client had it.
  EXPECT_GE(millis, posted_ms) << "timestamp " << text;
  EXPECT_LE(millis, received_ms) << "timestamp " << text;
}

TEST(LegacyClientTest, BodyIsForwardedByteForByte) {
  OBGW_START_GATEWAY(gw, {});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "verbatim")) << client.error();
  std::string error;
  ASSERT_TRUE(Subscribe(client, "US.AAPL", &error)) << error;
  // Whitespace, key order, number spelling and unicode escapes survive.
  const std::string body =
      "{ \"bids\" : [[189.5, 1200, 3], [189.25,1e2,1]],\n  \"asks\":[[189.75, 0.5, 1]],"
      " \"timestamp\": \"2024-01-01T12:00:00Z\", \"note\": \"caf\\u00e9\", \"z\": 1.50 }";
  HttpResponse response = PostBook(gw->http_port(), "US.AAPL", body);
  ASSERT_EQ(response.status, 200) << response.Describe();
  EXPECT_EQ(FindInt(response.Json(), "subscribers"), 1) << response.Describe();
  std::optional<std::string> raw = client.Read();
  ASSERT_TRUE(raw) << client.error();
  EXPECT_NE(raw->find(body), std::string::npos) << "body not verbatim in frame: " << *raw;
  json::value message = json::parse(*raw);
  ExpectUpdateShape(message.as_object(), "US.AAPL");
  EXPECT_EQ(message.at("data"), json::parse(body)) << *raw;
}

TEST(LegacyClientTest, SubscribersCountsEveryClient) {
  OBGW_START_GATEWAY(gw, {});
  std::vector<std::unique_ptr<WsTestClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<WsTestClient>());
    ASSERT_TRUE(clients.back()->Connect(gw->http_port(), "chart-AAPL-" + std::to_string(i)))
        << clients.back()->error();
    std::string error;
    ASSERT_TRUE(Subscribe(*clients.back(), "AAPL", &error)) << error;
  }
  // A client on another symbol is not counted.
  WsTestClient other;
  ASSERT_TRUE(other.Connect(gw->http_port(), "chart-MSFT")) << other.error();
  std::string error;
  ASSERT_TRUE(Subscribe(other, "MSFT", &error)) << error;

  HttpResponse response = PostBook(gw->http_port(), "AAPL", kGuideBody);
  ASSERT_EQ(response.status, 200) << response.Describe();
  EXPECT_EQ(FindInt(response.Json(), "subscribers"), 3) << response.Describe();
  for (auto& client : clients) {
    std::optional<json::object> update = ReadUpdate(*client, "AAPL");
    ASSERT_TRUE(update) << client->error();
    EXPECT_EQ(update->at("data"), json::parse(kGuideBody));
  }
  EXPECT_FALSE(other.Read(milliseconds(200))) << "MSFT subscriber got an AAPL book";

  // Nobody on a symbol: still 200, zero subscribers.
  response = PostBook(gw->http_port(), "NOSUBS", kGuideBody);
  ASSERT_EQ(response.status, 200) << response.Describe();
  EXPECT_EQ(FindInt(response.Json(), "subscribers"), 0) << response.Describe();
}

TEST(LegacyClientTest, UnsubscribeStopsDelivery) {
  OBGW_START_GATEWAY(gw, {});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "chart-AAPL")) << client.error();
  std::string error;
  ASSERT_TRUE(Subscribe(client, "AAPL", &error)) << error;
  ASSERT_TRUE(Subscribe(client, "MSFT", &error)) << error;

  ASSERT_EQ(PostBook(gw->http_port(), "AAPL", R"({"n":1})").status, 200);
  std::optional<json::object> first = client.ReadJson();
  ASSERT_TRUE(first) << client.error();
  EXPECT_EQ(first->at("type"), "orderbook_update");
  EXPECT_EQ(first->at("symbol"), "AAPL");

  ASSERT_TRUE(client.SendText(R"({"action":"unsubscribe","symbol":"AAPL"})")) << client.error();
  std::optional<json::object> confirmed = client.ReadJson();
  ASSERT_TRUE(confirmed) << client.error();
  EXPECT_EQ(confirmed->at("type"), "unsubscription_confirmed") << Str(*confirmed);
  EXPECT_EQ(confirmed->at("symbol"), "AAPL") << Str(*confirmed);

  HttpResponse response = PostBook(gw->http_port(), "AAPL", R"({"n":2})");
  ASSERT_EQ(response.status, 200) << response.Describe();
  EXPECT_EQ(FindInt(response.Json(), "subscribers"), 0) << response.Describe();
  response = PostBook(gw->http_port(), "MSFT", R"({"n":3})");
  ASSERT_EQ(response.status, 200) << response.Describe();
  EXPECT_EQ(FindInt(response.Json(), "subscribers"), 1) << response.Describe();

  // The MSFT book is the next message: the AAPL one never came.
  std::optional<json::object> next = client.ReadJson();
  ASSERT_TRUE(next) << client.error();
  EXPECT_EQ(next->at("type"), "orderbook_update") << Str(*next);
  EXPECT_EQ(next->at("symbol"), "MSFT") << Str(*next);
  EXPECT_EQ(next->at("data"), json::parse(R"({"n":3})")) << Str(*next);
  EXPECT_FALSE(client.Read(milliseconds(200))) << "unexpected message after unsubscribe";
}

TEST(LegacyClientTest, PingPong) {
  OBGW_START_GATEWAY(gw, {});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "pinger")) << client.error();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.SendText(R"({"action":"ping"})")) << client.error();
    std::optional<json::object> pong = client.ReadJson();
    ASSERT_TRUE(pong) << client.error();
    EXPECT_EQ(pong->at("type"), "pong") << Str(*pong);
  }
}

TEST(LegacyClientTest, RepliesKeepRequestOrder) {
  // The legacy middleware answered strictly in order; a pong or an error must
  // not overtake the confirmation of an earlier subscribe.
  OBGW_START_GATEWAY(gw, {});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "ordered")) << client.error();
  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    std::string symbol = "SYM" + std::to_string(i);
    ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbol":")" + symbol + "\"}"));
    ASSERT_TRUE(client.SendText(R"({"action":"ping"})"));
    ASSERT_TRUE(client.SendText(R"({"action":"unsubscribe","symbol":")" + symbol + "\"}"));
    ASSERT_TRUE(client.SendText("not json"));
    expected.insert(expected.end(), {"subscription_confirmed " + symbol, "pong",
                                     "unsubscription_confirmed " + symbol, "error"});
  }
  for (const std::string& want : expected) {
    std::optional<json::object> reply = client.ReadJson();
    ASSERT_TRUE(reply) << client.error();
    std::string got(reply->at("type").as_string());
    if (reply->contains("symbol")) got += " " + std::string(reply->at("symbol").as_string());
    ASSERT_EQ(got, want) << Str(*reply);
  }
}

TEST(LegacyClientTest, SeqIncreasesPerSymbol) {
  OBGW_START_GATEWAY(gw, {});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "seq")) << client.error();
  std::string error;
  ASSERT_TRUE(Subscribe(client, "AAPL", &error)) << error;
  ASSERT_TRUE(Subscribe(client, "MSFT", &error)) << error;
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(PostBook(gw->http_port(), "AAPL", R"({"a":)" + std::to_string(i) + "}").status, 200);
    std::optional<json::object> update = ReadUpdate(client, "AAPL");
    ASSERT_TRUE(update) << client.error();
    EXPECT_EQ(FindInt(*update, "seq"), i) << Str(*update);
  }
  // MSFT has its own sequence, starting at 1.
  ASSERT_EQ(PostBook(gw->http_port(), "MSFT", R"({"m":1})").status, 200);
  std::optional<json::object> update = ReadUpdate(client, "MSFT");
  ASSERT_TRUE(update) << client.error();
  EXPECT_EQ(FindInt(*update, "seq"), 1) << Str(*update);
}

TEST(LegacyClientTest, CurlBroadcastAsInTheGuide) {
  if (std::system("command -v curl >/dev/null 2>&1") != 0) GTEST_SKIP() << "curl not installed";
  OBGW_START_GATEWAY(gw, {});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "chart-AAPL")) << client.error();
  std::string error;
  ASSERT_TRUE(Subscribe(client, "AAPL", &error)) << error;

  std::string command = "curl -s -m 5 -w '\\n%{http_code}' -X POST \"http://127.0.0.1:" +
                        std::to_string(gw->http_port()) +
                        "/broadcast/orderbook?symbol=AAPL\" -H \"Content-Type: application/json\" "
                        "-d '" +
                        std::string(kGuideBody) + "'";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  int rc = pclose(pipe);
  ASSERT_EQ(rc, 0) << command << "\n" << output;
  size_t nl = output.rfind('\n');
  ASSERT_NE(nl, std::string::npos) << output;
  EXPECT_EQ(output.substr(nl + 1), "200") << output;
  json::value reply = json::parse(output.substr(0, nl));
  EXPECT_EQ(reply.at("status"), "success") << output;
  EXPECT_EQ(FindInt(reply, "subscribers"), 1) << output;

  std::optional<json::object> update = ReadUpdate(client, "AAPL");
  ASSERT_TRUE(update) << client.error();
  EXPECT_EQ(update->at("data"), json::parse(kGuideBody)) << Str(*update);
}

}  // namespace
}  // namespace obgw::testing
