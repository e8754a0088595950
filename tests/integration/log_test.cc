// The event log (issue 13, docs/operations.md "Logs"), read from the real
// gateway's output: one line per WebSocket opened and closed (client_id,
// peer, close code, why), per rejected request (its error code), per gRPC
// stream opened and closed (its summary), per Redis state change; JSON lines
// with --log_format=json; a flood rate limited into one summary and a
// counter; the process tag; and no secret in any line.

#include <cctype>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "grpc_test_client.h"
#include "http_test_client.h"
#include "jwt_minter.h"
#include "raw_ws_client.h"
#include "redis_server.h"
#include "test_util.h"
#include "ws_test_client.h"

namespace obgw::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

bool HasAll(const std::string& line, const std::vector<std::string>& needles) {
  for (const std::string& needle : needles) {
    if (line.find(needle) == std::string::npos) return false;
  }
  return true;
}

// The complete output lines holding every one of `needles`.
std::vector<std::string> LinesWith(const std::string& output,
                                   const std::vector<std::string>& needles) {
  std::vector<std::string> found;
  for (const std::string& line : Lines(output)) {
    if (HasAll(line, needles)) found.push_back(line);
  }
  return found;
}

// Waits (up to `timeout`) for the `count`-th complete line holding every one
// of `needles`, the log line of an event; returns it, or "" on timeout.
// Output() is read on each change of the output; there is no line to wait
// for with Process::WaitForLine, which matches a line's start (a timestamp).
std::string WaitForLineWith(Process& process, const std::vector<std::string>& needles,
                            milliseconds timeout = seconds(10), std::size_t count = 1) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::string output = process.Output();
    // Complete lines only: drop a partial last line.
    output.erase(output.rfind('\n') == std::string::npos ? 0 : output.rfind('\n') + 1);
    std::vector<std::string> found = LinesWith(output, needles);
    if (found.size() >= count) return found[count - 1];
    if (std::chrono::steady_clock::now() >= deadline) return {};
    std::this_thread::sleep_for(milliseconds(5));
  }
}

// The value of key=value in a text event line ("" when absent).
std::string ValueOf(const std::string& line, const std::string& key) {
  std::size_t at = line.find(" " + key + "=");
  if (at == std::string::npos) return {};
  at += key.size() + 2;
  return line.substr(at, line.find(' ', at) - at);
}

// The sum of the samples of `series` (name and labels) in Prometheus text.
double MetricValue(const std::string& text, const std::string& series) {
  for (const std::string& line : Lines(text)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

TEST(LogTest, WebSocketOpenedAndClosedWithClientIdPeerAndCloseCode) {
  OBGW_START_GATEWAY(gw, {"--shutdown_grace_ms=500"});
  const int port = gw->http_port();
  WsTestClient client;
  ASSERT_TRUE(client.Connect(port, "log-trader-1")) << client.error();
  std::string error;
  ASSERT_TRUE(Subscribe(client, "AAPL", &error)) << error;
  std::string opened = WaitForLineWith(gw->process(), {"ws_opened client_id=log-trader-1 "});
  ASSERT_FALSE(opened.empty()) << gw->Output();
  EXPECT_TRUE(HasAll(opened, {"[info]", " peer=127.0.0.1:", " shard=", " tls=false", " auth=off"}))
      << opened;
  ASSERT_TRUE(client.Close()) << client.error();
  std::string closed = WaitForLineWith(gw->process(), {"ws_closed client_id=log-trader-1 "});
  ASSERT_FALSE(closed.empty()) << gw->Output();
  EXPECT_TRUE(HasAll(closed, {"[info]", " peer=127.0.0.1:", " tls=false", " code=1000",
                              " why=client_close", " duration_ms="}))
      << closed;
  // The peer is the client's port, the same in both lines.
  EXPECT_EQ(ValueOf(opened, "peer"), ValueOf(closed, "peer"));
  // subscription_confirmed at least.
  EXPECT_GE(std::stoi(ValueOf(closed, "messages_sent")), 1) << closed;

  // Dropped without a close frame.
  WsTestClient dropped;
  ASSERT_TRUE(dropped.Connect(port, "log-dropped")) << dropped.error();
  ASSERT_FALSE(WaitForLineWith(gw->process(), {"ws_opened client_id=log-dropped "}).empty());
  dropped.Abort();
  std::string lost = WaitForLineWith(gw->process(), {"ws_closed client_id=log-dropped "});
  EXPECT_TRUE(HasAll(lost, {" code=1006", " why=connection_lost"})) << gw->Output();

  // Closed by the server: shutdown.
  WsTestClient staying;
  ASSERT_TRUE(staying.Connect(port, "log-staying")) << staying.error();
  ASSERT_FALSE(WaitForLineWith(gw->process(), {"ws_opened client_id=log-staying "}).empty());
  EXPECT_EQ(gw->process().Stop(), 0);
  ASSERT_TRUE(gw->process().WaitForOutputEnd(seconds(5)));
  std::vector<std::string> shutdown =
      LinesWith(gw->Output(), {"ws_closed client_id=log-staying ", " code=1001", " why=shutdown",
                               " reason=\"server shutting down\""});
  EXPECT_EQ(shutdown.size(), 1u) << gw->Output();
}

TEST(LogTest, RejectedRequestsNameTheirErrorCode) {
  OBGW_START_GATEWAY(gw, {"--allowed_origins=https://good.example"});
  const int port = gw->http_port();
  // REST: a body that is not JSON.
  HttpResponse bad = PostBook(port, "AAPL", "not json");
  ASSERT_GE(bad.status, 400) << bad.Describe();
  ASSERT_TRUE(bad.Json().is_object()) << bad.Describe();
  const std::string code = std::string(bad.Json().as_object().at("code").as_string());
  std::string rest =
      WaitForLineWith(gw->process(), {"http_rejected ", " status=" + std::to_string(bad.status)});
  ASSERT_FALSE(rest.empty()) << gw->Output();
  EXPECT_TRUE(HasAll(rest, {"[warning]", " peer=127.0.0.1:", " method=POST",
                            " path=/broadcast/orderbook ", " code=" + code}))
      << rest;
  // The query (which may carry ?token=) is not logged.
  EXPECT_EQ(rest.find("symbol=AAPL"), std::string::npos) << rest;

  // An unknown path.
  ASSERT_EQ(HttpGet(port, "/no-such-page").status, 404);
  EXPECT_FALSE(
      WaitForLineWith(gw->process(), {"http_rejected ", " method=GET", " path=/no-such-page",
                                      " status=404", " code=not_found"})
          .empty())
      << gw->Output();

  // A page from another site opening a WebSocket.
  RawWsClient evil;
  evil.SetExtraHeaders("Origin: https://evil.example\r\n");
  evil.Connect(port, "/ws/log-evil");
  ASSERT_EQ(evil.status(), 403);
  EXPECT_FALSE(WaitForLineWith(gw->process(), {"http_rejected ", " path=/ws/log-evil",
                                               " status=403", " code=origin_forbidden"})
                   .empty())
      << gw->Output();

  // A WebSocket client message refused.
  WsTestClient client;
  ASSERT_TRUE(client.Connect(port, "log-dancer")) << client.error();
  ASSERT_TRUE(client.SendText(R"({"action":"dance"})"));
  ASSERT_TRUE(client.ReadUntilType("error")) << client.error();
  std::string ws = WaitForLineWith(gw->process(), {"ws_rejected client_id=log-dancer "});
  EXPECT_TRUE(HasAll(ws, {"[warning]", " peer=127.0.0.1:", " code=unknown_action"})) << ws;
}

// Refused at accept by the per-IP connection rate: before any HTTP, so a
// line of its own.
TEST(LogTest, AConnectionRefusedByTheRateLimitIsALine) {
  OBGW_START_GATEWAY(gw, {"--connection_rate_per_ip=0.001", "--connection_burst_per_ip=1"});
  ASSERT_EQ(HttpGet(gw->http_port(), "/health").status, 200);
  EXPECT_NE(HttpGet(gw->http_port(), "/health").status, 200);
  std::string refused = WaitForLineWith(gw->process(), {"connection_refused "});
  EXPECT_TRUE(HasAll(refused, {"[warning]", " peer=127.0.0.1:", " why=connection_rate"}))
      << gw->Output();
}

TEST(LogTest, GrpcStreamOpenedAndClosedWithItsSummary) {
  OBGW_START_GATEWAY(gw, {});
  std::vector<orderbook::v1::OrderBookUpdate> updates = {
      MakeUpdate("AAPL", 1), MakeUpdate("AAPL", 2), MakeUpdate("MSFT", 1), MakeUpdate("AAPL", 3)};
  updates[2].mutable_bids(0)->set_price(-1);  // Rejected: update 3.
  PublishResult result = PublishStream(gw->grpc_target(), updates);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_EQ(result.summary.accepted(), 3u);

  std::string opened = WaitForLineWith(gw->process(), {"grpc_stream_opened "});
  EXPECT_TRUE(HasAll(opened, {"[info]", " peer=ipv4:127.0.0.1:", " method=Publish"})) << opened;
  std::string rejected = WaitForLineWith(gw->process(), {"grpc_update_rejected "});
  EXPECT_TRUE(HasAll(rejected, {"[warning]", " method=Publish", "update 3 (MSFT)"})) << rejected;
  std::string closed = WaitForLineWith(gw->process(), {"grpc_stream_closed "});
  ASSERT_FALSE(closed.empty()) << gw->Output();
  EXPECT_TRUE(HasAll(closed, {"[info]", " method=Publish", " status=ok", " accepted=3",
                              " rejected=1", " duration_ms=", " first_error=\"update 3 (MSFT)"}))
      << closed;
  EXPECT_EQ(ValueOf(opened, "peer"), ValueOf(closed, "peer"));

  std::vector<orderbook::v1::OrderBookBatch> batches =
      SplitIntoBatches({MakeUpdate("AAPL", 4)}, {1});
  ASSERT_TRUE(PublishBatchStream(gw->grpc_target(), batches).status.ok());
  EXPECT_TRUE(
      HasAll(WaitForLineWith(gw->process(), {"grpc_stream_closed ", " method=PublishBatch"}),
             {" accepted=1", " rejected=0", " status=ok"}))
      << gw->Output();
}

TEST(LogTest, RedisLostAndRegained) {
  std::string error;
  std::unique_ptr<RedisServer> redis = RedisServer::Start(&error);
  ASSERT_NE(redis, nullptr) << error;
  OBGW_START_GATEWAY(gw, {"--redis_url=" + redis->url(), "--redis_timeout_ms=300"});
  Process& log = gw->process();
  ASSERT_FALSE(WaitForLineWith(log, {"redis_up connection=commands ", " reconnect=false"}).empty())
      << gw->Output();
  ASSERT_FALSE(WaitForLineWith(log, {"cluster_healthy "}).empty()) << gw->Output();

  // The node's health (checked every 100 ms) may have turned healthy at
  // start too (it starts degraded until Redis answered).
  const std::size_t healthy_before = LinesWith(gw->Output(), {"health_healthy "}).size();
  redis->Kill();
  std::string down = WaitForLineWith(log, {"redis_down connection=commands "});
  ASSERT_FALSE(down.empty()) << gw->Output();
  EXPECT_TRUE(
      HasAll(down, {"[warning]", " endpoint=redis://127.0.0.1:", " reason=", " retry_max_ms=1000"}))
      << down;
  std::string degraded = WaitForLineWith(log, {"cluster_degraded "});
  EXPECT_TRUE(HasAll(degraded, {"[warning]", " reason=\"redis unreachable: "})) << gw->Output();
  std::string unhealthy = WaitForLineWith(log, {"health_degraded "});
  EXPECT_TRUE(
      HasAll(unhealthy, {"[warning]", " reason=\"redis unreachable: ", " grpc_health=NOT_SERVING"}))
      << gw->Output();

  ASSERT_TRUE(redis->Restart(&error)) << error;
  std::string back = WaitForLineWith(log, {"redis_up connection=commands ", " reconnect=true"});
  ASSERT_FALSE(back.empty()) << gw->Output();
  EXPECT_FALSE(ValueOf(back, "down_ms").empty()) << back;
  EXPECT_FALSE(WaitForLineWith(log, {"cluster_healthy "}, seconds(10), 2).empty()) << gw->Output();
  std::string healthy = WaitForLineWith(log, {"health_healthy "}, seconds(10), healthy_before + 1);
  EXPECT_TRUE(HasAll(healthy, {"[info]", " grpc_health=SERVING"})) << gw->Output();
  // One line per change: the connection's retries are not logged.
  EXPECT_EQ(LinesWith(gw->Output(), {"redis_down connection=commands "}).size(), 1u)
      << gw->Output();
}

TEST(LogTest, JsonFormatIsOneObjectPerLine) {
  OBGW_START_GATEWAY(gw, {"--log_format=json", "--node_id=node-j"});
  const int port = gw->http_port();
  WsTestClient client;
  ASSERT_TRUE(client.Connect(port, "json-1")) << client.error();
  ASSERT_TRUE(client.Close()) << client.error();
  ASSERT_EQ(HttpGet(port, "/no-such-page").status, 404);
  ASSERT_FALSE(WaitForLineWith(gw->process(), {"\"event\":\"ws_closed\""}).empty()) << gw->Output();
  ASSERT_FALSE(WaitForLineWith(gw->process(), {"\"event\":\"http_rejected\""}).empty())
      << gw->Output();
  EXPECT_EQ(gw->process().Stop(), 0);
  ASSERT_TRUE(gw->process().WaitForOutputEnd(seconds(5)));

  int events = 0;
  bool saw_opened = false, saw_closed = false, saw_rejected = false, saw_plain = false;
  for (const std::string& line : Lines(gw->Output())) {
    // The ready line is for scripts, not a log line; gRPC's own lines
    // ("E1203 05:40:00.123456 ..." on stderr) are gRPC's.
    if (line.rfind(kReadyPrefix, 0) == 0) continue;
    if (line.size() > 5 && std::string_view("EWID").find(line[0]) != std::string_view::npos &&
        std::isdigit(static_cast<unsigned char>(line[1])) && line[5] == ' ') {
      continue;
    }
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(line, ec);
    ASSERT_FALSE(ec) << "not JSON: " << line;
    ASSERT_TRUE(value.is_object()) << line;
    const boost::json::object& object = value.as_object();
    for (const char* key : {"ts", "level", "tag", "event"}) {
      ASSERT_TRUE(object.contains(key) && object.at(key).is_string()) << key << ": " << line;
    }
    EXPECT_EQ(object.at("tag"), "gateway:node-j") << line;
    ++events;
    const std::string event(object.at("event").as_string());
    if (event == "ws_opened" && object.at("client_id") == "json-1") {
      saw_opened = true;
      EXPECT_TRUE(object.at("shard").is_int64()) << line;
      EXPECT_EQ(object.at("tls"), false) << line;
      EXPECT_TRUE(object.at("peer").as_string().starts_with("127.0.0.1:")) << line;
    } else if (event == "ws_closed" && object.at("client_id") == "json-1") {
      saw_closed = true;
      EXPECT_EQ(object.at("code").to_number<int>(), 1000) << line;
      EXPECT_EQ(object.at("why"), "client_close") << line;
    } else if (event == "http_rejected") {
      saw_rejected = true;
      EXPECT_EQ(object.at("status").to_number<int>(), 404) << line;
      EXPECT_EQ(object.at("code"), "not_found") << line;
    } else if (event == "log" && object.at("msg").as_string().starts_with("serving: ")) {
      saw_plain = true;
    }
  }
  EXPECT_GT(events, 5);
  EXPECT_TRUE(saw_opened && saw_closed && saw_rejected && saw_plain) << gw->Output();
}

TEST(LogTest, AFloodIsRateLimitedIntoASummaryAndACounter) {
  OBGW_START_GATEWAY(gw, {"--log_lines_per_second=1", "--log_burst=3"});
  const int port = gw->http_port();
  constexpr int kRequests = 40;
  HttpConnection connection(port);
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(connection.Send("GET /flood-" + std::to_string(i) +
                                " HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    ASSERT_EQ(connection.Read().status, 404) << connection.error();
  }
  // The main loop writes the summary within a second or so.
  ASSERT_FALSE(
      WaitForLineWith(gw->process(), {"suppressed ", " http_rejected lines in the last "}).empty())
      << gw->Output();
  const std::string metrics = HttpGet(port, "/metrics").body;
  const double suppressed =
      MetricValue(metrics, "obgw_log_lines_suppressed_total{kind=\"http_rejected\"}");
  const std::size_t written = LinesWith(gw->Output(), {"http_rejected ", "path=/flood-"}).size();
  // The burst, and at most a token per second of the flood after it.
  EXPECT_GE(written, 3u);
  EXPECT_LT(written, 10u) << gw->Output();
  // Every request is either a line or counted.
  EXPECT_EQ(suppressed + static_cast<double>(written), kRequests) << metrics;
  EXPECT_EQ(FindInt(GetStats(port), "log_suppressed.http_rejected").value_or(-1),
            static_cast<std::int64_t>(suppressed));
  // The summaries add up to the counter (they may come in more than one).
  const auto deadline = std::chrono::steady_clock::now() + seconds(5);
  double summed = 0;
  while (summed < suppressed && std::chrono::steady_clock::now() < deadline) {
    summed = 0;
    for (const std::string& line :
         LinesWith(gw->Output(), {"suppressed ", " http_rejected lines in the last "})) {
      summed += std::stod(line.substr(line.find("suppressed ") + 11));
    }
    if (summed < suppressed) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(summed, suppressed) << gw->Output();
  // Other kinds keep their own budget.
  WsTestClient client;
  ASSERT_TRUE(client.Connect(port, "after-flood")) << client.error();
  EXPECT_FALSE(WaitForLineWith(gw->process(), {"ws_opened client_id=after-flood "}).empty());
}

TEST(LogTest, TheTagTellsProcessesApart) {
  OBGW_START_GATEWAY(plain, {});
  EXPECT_NE(plain->Output().find("] [gateway] [info] serving: "), std::string::npos)
      << plain->Output();
  OBGW_START_GATEWAY(node, {"--node_id=node-a"});
  EXPECT_NE(node->Output().find("] [gateway:node-a] [info] serving: "), std::string::npos)
      << node->Output();
  OBGW_START_GATEWAY(tagged, {"--log_tag=edge-7"});
  EXPECT_NE(tagged->Output().find("] [edge-7] [info] serving: "), std::string::npos)
      << tagged->Output();

  std::string error;
  std::unique_ptr<Process> feed = Process::Spawn(
      BinDir() + "/orderbook-feed",
      {"--target=" + plain->grpc_target(), "--symbols=2", "--rate=0", "--count=5"}, &error);
  ASSERT_NE(feed, nullptr) << error;
  ASSERT_EQ(feed->WaitForExit(seconds(20)), 0) << feed->Output();
  ASSERT_TRUE(feed->WaitForOutputEnd(seconds(5)));
  EXPECT_NE(feed->Output().find("] [feed] [info] connected to "), std::string::npos)
      << feed->Output();
  EXPECT_FALSE(
      WaitForLineWith(plain->process(), {"] [gateway] [info] grpc_stream_closed ", " accepted=5"})
          .empty())
      << plain->Output();

  // A bad value is refused at start, naming the flag.
  for (const char* flag : {"--log_format=xml", "--log_tag=two words", "--log_burst=0"}) {
    std::unique_ptr<Process> bad = Process::Spawn(GatewayPath(), {flag, "--http_port=0"});
    ASSERT_NE(bad, nullptr);
    EXPECT_EQ(bad->WaitForExit(seconds(10)), 2) << flag;
    ASSERT_TRUE(bad->WaitForOutputEnd(seconds(5)));
    std::string name = std::string(flag).substr(0, std::string(flag).find('='));
    EXPECT_NE(bad->Output().find("orderbook-gateway: " + name), std::string::npos) << bad->Output();
  }
}

// Every secret the gateway knows, used in every way it can be (good and bad
// tokens, every path that logs an auth failure), at trace level: none of it
// appears in any line.
TEST(LogTest, NoSecretInAnyLine) {
  const std::string jwt_secret = "log-test-jwt-secret-0123456789abcdef";
  const std::string publish_token = "log-test-publish-token-0123456789";
  const std::string wrong_publish_token = "log-test-wrong-publish-token-987654";
  const std::string redis_password = "log-test-redis-password-xyz";
  std::string error;
  std::unique_ptr<RedisServer> redis = RedisServer::StartWithPassword(redis_password, &error);
  ASSERT_NE(redis, nullptr) << error;
  const std::string redis_url =
      "redis://:" + redis_password + "@127.0.0.1:" + std::to_string(redis->port());
  OBGW_START_GATEWAY(gw, {"--log_level=trace", "--jwt_secret=" + jwt_secret,
                          "--publish_tokens=" + publish_token, "--redis_url=" + redis_url});
  const int port = gw->http_port();
  ASSERT_FALSE(WaitForLineWith(gw->process(), {"redis_up connection=commands "}).empty())
      << gw->Output();
  const std::string token = MintToken("HS256", jwt_secret, ClaimsJson("alice", 600));
  const std::string forged =
      MintToken("HS256", "another-secret-0123456789abcdef-xyz", ClaimsJson("alice", 600));

  // Browser tokens: in the upgrade (good and bad), in an auth message (good
  // and bad).
  WsTestClient upgraded;
  ASSERT_TRUE(upgraded.ConnectTarget(port, "/ws/alice?token=" + token)) << upgraded.error();
  ASSERT_TRUE(upgraded.Close());
  WsTestClient refused;
  EXPECT_FALSE(refused.ConnectTarget(port, "/ws/alice?token=" + forged));
  EXPECT_EQ(refused.handshake_status(), 401);
  WsTestClient by_message;
  ASSERT_TRUE(by_message.Connect(port, "alice")) << by_message.error();
  ASSERT_TRUE(by_message.SendJson({{"action", "auth"}, {"token", token}}));
  ASSERT_TRUE(by_message.ReadUntilType("authenticated")) << by_message.error();
  ASSERT_TRUE(by_message.SendJson({{"action", "auth"}, {"token", forged}}));
  ASSERT_TRUE(by_message.WaitForClose()) << by_message.error();

  // Publish tokens: REST and gRPC, good and wrong.
  const std::string book = R"({"bids":[],"asks":[]})";
  EXPECT_EQ(HttpRequest(port, "POST", "/broadcast/orderbook?symbol=AAPL", book,
                        {{"authorization", "Bearer " + publish_token}})
                .status,
            200);
  EXPECT_EQ(HttpRequest(port, "POST", "/broadcast/orderbook?symbol=AAPL", book,
                        {{"authorization", "Bearer " + wrong_publish_token}})
                .status,
            401);
  EXPECT_TRUE(PublishStream(gw->grpc_target(), {MakeUpdate("AAPL", 1)}, seconds(10),
                            {{"authorization", "Bearer " + publish_token}})
                  .status.ok());
  EXPECT_EQ(PublishStream(gw->grpc_target(), {MakeUpdate("AAPL", 2)}, seconds(10),
                          {{"authorization", "Bearer " + wrong_publish_token}})
                .status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // Redis lost and back: the lines that quote the endpoint.
  redis->Kill();
  ASSERT_FALSE(WaitForLineWith(gw->process(), {"redis_down connection=commands "}).empty());
  ASSERT_TRUE(redis->Restart(&error)) << error;
  ASSERT_FALSE(
      WaitForLineWith(gw->process(), {"redis_up connection=commands ", " reconnect=true"}).empty())
      << gw->Output();

  // The events were logged...
  for (const std::vector<std::string>& needles : std::vector<std::vector<std::string>>{
           {"http_rejected ", " path=/ws/alice ", " status=401"},
           {"ws_rejected client_id=alice "},
           {"ws_closed client_id=alice ", " why=auth_rejected"},
           {"http_rejected ", " path=/broadcast/orderbook ", " code=unauthorized"},
           {"grpc_refused ", " code=wrong_publish_token"}}) {
    EXPECT_FALSE(WaitForLineWith(gw->process(), needles).empty()) << needles[0] << "\n"
                                                                  << gw->Output();
  }
  EXPECT_EQ(gw->process().Stop(), 0);
  ASSERT_TRUE(gw->process().WaitForOutputEnd(seconds(5)));
  const std::string output = gw->Output();
  EXPECT_NE(output.find("redis://:***@127.0.0.1:" + std::to_string(redis->port())),
            std::string::npos)
      << output;
  // ... and no secret, token or part of a token's signature is in any of them.
  std::vector<std::string> secrets = {jwt_secret,     publish_token, wrong_publish_token,
                                      redis_password, token,         forged};
  for (const std::string& jwt : {token, forged}) secrets.push_back(jwt.substr(jwt.rfind('.') + 1));
  for (const std::string& secret : secrets) {
    EXPECT_EQ(output.find(secret), std::string::npos) << "the log shows " << secret << ":\n"
                                                      << output;
  }
}

}  // namespace
}  // namespace obgw::testing
