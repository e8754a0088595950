// Every bad input gets a clear, stable answer and leaves the gateway (and the
// connection, where the spec says so) working.

#include <memory>
#include <string>
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

constexpr std::string_view kBook = R"({"bids":[],"asks":[]})";

void ExpectHealthy(int port) {
  HttpResponse health = HttpGet(port, "/health");
  EXPECT_EQ(health.status, 200) << health.Describe();
}

TEST(BadHttpInputTest, InvalidJsonIs400) {
  OBGW_START_GATEWAY(gw, {});
  for (std::string_view body : {std::string_view("{not json"), std::string_view(""),
                                std::string_view(R"({"bids":[]} trailing)")}) {
    HttpResponse response = PostBook(gw->http_port(), "AAPL", body);
    EXPECT_EQ(response.status, 400) << "body '" << body << "': " << response.Describe();
    ExpectErrorBody(response, "invalid_json");
  }
  ExpectHealthy(gw->http_port());
}

TEST(BadHttpInputTest, NonObjectBodyIs400) {
  OBGW_START_GATEWAY(gw, {});
  for (std::string_view body :
       {std::string_view("[]"), std::string_view(R"([{"bids":[]}])"), std::string_view("42"),
        std::string_view(R"("text")"), std::string_view("null")}) {
    HttpResponse response = PostBook(gw->http_port(), "AAPL", body);
    EXPECT_EQ(response.status, 400) << "body '" << body << "': " << response.Describe();
    ExpectErrorBody(response, "not_an_object");
  }
  ExpectHealthy(gw->http_port());
}

TEST(BadHttpInputTest, MissingSymbolIs422) {
  OBGW_START_GATEWAY(gw, {});
  for (std::string_view target : {"/broadcast/orderbook", "/broadcast/orderbook?other=1"}) {
    HttpResponse response = HttpRequest(gw->http_port(), "POST", target, kBook);
    EXPECT_EQ(response.status, 422) << target << ": " << response.Describe();
    ExpectErrorBody(response, "missing_symbol");
  }
  ExpectHealthy(gw->http_port());
}

TEST(BadHttpInputTest, InvalidSymbolIs422) {
  OBGW_START_GATEWAY(gw, {});
  const std::string forty(40, 'A');
  for (const std::string& symbol : {std::string("A%20B"), std::string("A+B"), forty,
                                    std::string("AA%22PL"), std::string("x/y"), std::string("")}) {
    HttpResponse response = PostBook(gw->http_port(), symbol, kBook);
    EXPECT_EQ(response.status, 422) << "symbol '" << symbol << "': " << response.Describe();
    if (!symbol.empty()) {
      ExpectErrorBody(response, "invalid_symbol");
    }
  }
  // 32 characters is still fine.
  HttpResponse response = PostBook(gw->http_port(), std::string(32, 'B'), kBook);
  EXPECT_EQ(response.status, 200) << response.Describe();
  ExpectHealthy(gw->http_port());
}

TEST(BadHttpInputTest, OversizedBodyIs413) {
  OBGW_START_GATEWAY(gw, {});
  // A real 2 MiB JSON object, over the 1 MiB default.
  std::string body = R"({"pad":")" + std::string(2 * 1024 * 1024, 'x') + R"("})";
  HttpResponse response = PostBook(gw->http_port(), "AAPL", body);
  EXPECT_EQ(response.status, 413) << response.Describe();
  ExpectErrorBody(response, "body_too_large");

  // Announced by Content-Length only: answered before any body byte is sent.
  std::string headers =
      "POST /broadcast/orderbook?symbol=AAPL HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\nContent-Length: 2097152\r\n\r\n";
  response = RawHttpExchange(gw->http_port(), headers, std::chrono::seconds(3));
  EXPECT_EQ(response.status, 413) << response.Describe();

  // Just under the limit is accepted.
  std::string fits = R"({"pad":")" + std::string(1024 * 1024 - 64, 'y') + R"("})";
  response = PostBook(gw->http_port(), "AAPL", fits);
  EXPECT_EQ(response.status, 200) << response.Describe();
  ExpectHealthy(gw->http_port());
}

TEST(BadHttpInputTest, MaxBodyBytesFlag) {
  OBGW_START_GATEWAY(gw, {"--max_body_bytes=1024"});
  std::string body = R"({"pad":")" + std::string(2048, 'x') + R"("})";
  HttpResponse response = PostBook(gw->http_port(), "AAPL", body);
  EXPECT_EQ(response.status, 413) << response.Describe();
  ExpectErrorBody(response, "body_too_large");
  std::string small = R"({"pad":")" + std::string(900, 'x') + R"("})";
  response = PostBook(gw->http_port(), "AAPL", small);
  EXPECT_EQ(response.status, 200) << response.Describe();
  ExpectHealthy(gw->http_port());
}

TEST(BadHttpInputTest, WrongMethodIs405) {
  OBGW_START_GATEWAY(gw, {});
  HttpResponse response = HttpGet(gw->http_port(), "/broadcast/orderbook?symbol=AAPL");
  EXPECT_EQ(response.status, 405) << response.Describe();
  ExpectErrorBody(response, "method_not_allowed");
  response = HttpRequest(gw->http_port(), "DELETE", "/broadcast/orderbook?symbol=AAPL");
  EXPECT_EQ(response.status, 405) << response.Describe();
  ExpectHealthy(gw->http_port());
}

TEST(BadHttpInputTest, UnknownPathIs404) {
  OBGW_START_GATEWAY(gw, {});
  for (std::string_view target : {"/nope", "/broadcast", "/broadcast/trades?symbol=AAPL"}) {
    HttpResponse response = HttpGet(gw->http_port(), target);
    EXPECT_EQ(response.status, 404) << target << ": " << response.Describe();
    ExpectErrorBody(response, "not_found");
  }
  HttpResponse response = HttpRequest(gw->http_port(), "POST", "/broadcast/nope?symbol=A", kBook);
  EXPECT_EQ(response.status, 404) << response.Describe();
  ExpectHealthy(gw->http_port());
}

// Sends `bad` and expects {"type":"error","code":code}; then the connection
// must still subscribe and receive.
void ExpectWsErrorThenStillWorks(GatewayProcess& gw, WsTestClient& client, std::string_view bad,
                                 bool binary, std::string_view code,
                                 std::string_view message_prefix = {}) {
  SCOPED_TRACE("input: " + std::string(bad.substr(0, 80)));
  ASSERT_TRUE(binary ? client.SendBinary(bad) : client.SendText(bad)) << client.error();
  // Replies skip any book still in flight from the previous round (a
  // re-subscribe may first get the cached book as a snapshot).
  std::optional<json::object> reply = ReadReply(client);
  ASSERT_TRUE(reply) << client.error();
  EXPECT_EQ(reply->at("type"), "error") << Str(*reply);
  const json::value* c = reply->if_contains("code");
  ASSERT_NE(c, nullptr) << Str(*reply);
  EXPECT_EQ(*c, json::value(code)) << Str(*reply);
  const json::value* m = reply->if_contains("message");
  ASSERT_NE(m, nullptr) << Str(*reply);
  ASSERT_TRUE(m->is_string()) << Str(*reply);
  EXPECT_FALSE(m->as_string().empty()) << Str(*reply);
  if (!message_prefix.empty()) {
    EXPECT_EQ(std::string(m->as_string()).substr(0, message_prefix.size()), message_prefix)
        << Str(*reply);
  }
  // Still works: ping, subscribe, receive.
  ASSERT_TRUE(client.SendText(R"({"action":"ping"})")) << client.error();
  std::optional<json::object> pong = ReadReply(client);
  ASSERT_TRUE(pong) << client.error();
  EXPECT_EQ(pong->at("type"), "pong") << Str(*pong);
  std::string error;
  ASSERT_TRUE(Subscribe(client, "AAPL", &error)) << error;
  HttpResponse response = PostBook(gw.http_port(), "AAPL", kBook);
  ASSERT_EQ(response.status, 200) << response.Describe();
  std::optional<json::object> update = ReadUpdate(client, "AAPL");
  ASSERT_TRUE(update) << client.error();
  ASSERT_TRUE(Unsubscribe(client, "AAPL", &error)) << error;
}

TEST(BadWsInputTest, EachBadMessageGetsACodedErrorAndTheConnectionSurvives) {
  OBGW_START_GATEWAY(gw, {});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "bad-input")) << client.error();
  const std::string forty(40, 'A');
  struct Case {
    std::string input;
    bool binary;
    std::string code;
    std::string message_prefix;
  };
  const std::vector<Case> cases = {
      {"garbage{", false, "invalid_json", ""},
      {"", false, "invalid_json", ""},
      {R"(["subscribe","AAPL"])", false, "invalid_json", ""},
      {"42", false, "invalid_json", ""},
      {R"({"action":"dance","symbol":"AAPL"})", false, "unknown_action", "Unknown action: dance"},
      {R"({"symbol":"AAPL"})", false, "unknown_action", "Unknown action"},
      {R"({"action":7})", false, "unknown_action", "Unknown action"},
      {R"({"action":"subscribe"})", false, "missing_symbol", ""},
      {R"({"action":"subscribe","symbol":42})", false, "missing_symbol", ""},
      {R"({"action":"unsubscribe"})", false, "missing_symbol", ""},
      {R"({"action":"subscribe","symbol":"A B"})", false, "invalid_symbol", ""},
      {R"({"action":"subscribe","symbol":")" + forty + R"("})", false, "invalid_symbol", ""},
      {R"({"action":"unsubscribe","symbol":"A/B"})", false, "invalid_symbol", ""},
      {R"({"action":"subscribe","symbol":"AAPL"})", true, "binary_not_supported", ""},
      {std::string("\x00\x01\x02\xff", 4), true, "binary_not_supported", ""},
  };
  for (const Case& c : cases) {
    ExpectWsErrorThenStillWorks(*gw, client, c.input, c.binary, c.code, c.message_prefix);
    if (::testing::Test::HasFatalFailure()) return;
  }
  ExpectHealthy(gw->http_port());
  json::value stats = GetStats(gw->http_port());
  const json::value* ws_errors = Find(stats, "ws_errors");
  if (ws_errors == nullptr) ws_errors = Find(stats, "ingest.ws_errors");
  ASSERT_NE(ws_errors, nullptr) << Str(stats);
  EXPECT_EQ(FindInt(*ws_errors, ""), static_cast<std::int64_t>(cases.size())) << Str(stats);
}

// A string symbol that is empty is present but not 1..32 characters:
// invalid_symbol (missing_symbol is for no string symbol at all).
TEST(BadWsInputTest, EmptySymbolIsMissingSymbol) {
  OBGW_START_GATEWAY(gw, {});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "empty-symbol")) << client.error();
  // Like an absent one, as REST treats "?symbol=" (and as the legacy
  // middleware ignored a falsy symbol).
  ExpectWsErrorThenStillWorks(*gw, client, R"({"action":"subscribe","symbol":""})", false,
                              "missing_symbol");
}

TEST(BadWsInputTest, OversizedFrameClosesWith1009) {
  OBGW_START_GATEWAY(gw, {"--max_frame_bytes=1024"});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "big-frame")) << client.error();
  // Under the limit is fine.
  std::string error;
  ASSERT_TRUE(Subscribe(client, "AAPL", &error)) << error;
  std::string big = R"({"action":"ping","pad":")" + std::string(4096, 'x') + R"("})";
  client.SendText(big);  // The server may close before all of it is written.
  ASSERT_TRUE(client.WaitForClose()) << "not closed: " << client.error();
  EXPECT_EQ(client.close_code(), 1009) << client.error();

  // The gateway itself is fine and takes new clients.
  ExpectHealthy(gw->http_port());
  WsTestClient next;
  ASSERT_TRUE(next.Connect(gw->http_port(), "after-big-frame")) << next.error();
  ASSERT_TRUE(Subscribe(next, "AAPL", &error)) << error;
}

TEST(BadWsInputTest, SubscriptionLimit) {
  OBGW_START_GATEWAY(gw, {"--max_subscriptions=3"});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "greedy")) << client.error();
  std::string error;
  for (std::string_view symbol : {"S1", "S2", "S3"}) {
    ASSERT_TRUE(Subscribe(client, symbol, &error)) << error;
  }
  ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbol":"S4"})")) << client.error();
  std::optional<json::object> reply = client.ReadJson();
  ASSERT_TRUE(reply) << client.error();
  EXPECT_EQ(reply->at("type"), "error") << Str(*reply);
  EXPECT_EQ(reply->at("code"), "subscription_limit") << Str(*reply);

  // Not subscribed to S4; still subscribed to the others.
  HttpResponse response = PostBook(gw->http_port(), "S4", kBook);
  ASSERT_EQ(response.status, 200) << response.Describe();
  EXPECT_EQ(FindInt(response.Json(), "subscribers"), 0) << response.Describe();
  response = PostBook(gw->http_port(), "S1", kBook);
  ASSERT_EQ(response.status, 200) << response.Describe();
  EXPECT_EQ(FindInt(response.Json(), "subscribers"), 1) << response.Describe();
  ASSERT_TRUE(ReadUpdate(client, "S1")) << client.error();

  // The limit counts current subscriptions: free one, and S4 fits.
  ASSERT_TRUE(Unsubscribe(client, "S2", &error)) << error;
  ASSERT_TRUE(Subscribe(client, "S4", &error)) << error;
  // Another connection has its own budget.
  WsTestClient other;
  ASSERT_TRUE(other.Connect(gw->http_port(), "greedy-2")) << other.error();
  ASSERT_TRUE(Subscribe(other, "S5", &error)) << error;
  ExpectHealthy(gw->http_port());
}

TEST(BadWsInputTest, BadClientIdIsRefused) {
  OBGW_START_GATEWAY(gw, {});
  WsTestClient too_long;
  EXPECT_FALSE(too_long.Connect(gw->http_port(), std::string(129, 'c')));
  WsTestClient empty;
  EXPECT_FALSE(empty.ConnectTarget(gw->http_port(), "/ws/"));
  WsTestClient ok;
  ASSERT_TRUE(ok.Connect(gw->http_port(), std::string(128, 'c'))) << ok.error();
  ExpectHealthy(gw->http_port());
}

TEST(StartupTest, SecondGatewayOnABusyPortExitsNonZero) {
  OBGW_START_GATEWAY(first, {});
  std::string error;
  std::unique_ptr<Process> second =
      Process::Spawn(GatewayPath(),
                     {"--bind=127.0.0.1", "--http_port=" + std::to_string(first->http_port()),
                      "--grpc_port=0", "--threads=1"},
                     &error);
  ASSERT_NE(second, nullptr) << error;
  std::optional<int> code = second->WaitForExit(std::chrono::seconds(5));
  ASSERT_TRUE(code) << "second gateway still running on a busy port:\n" << second->Output();
  EXPECT_NE(*code, 0) << second->Output();
  EXPECT_FALSE(second->WaitForLine(kReadyPrefix, milliseconds(0))) << second->Output();
  std::string output = second->Output();
  EXPECT_FALSE(output.empty()) << "no reason given";
  EXPECT_LT(*code, 128) << "died by a signal instead of exiting: " << output;
  // The first one is unaffected.
  ExpectHealthy(first->http_port());

  // Same for a busy gRPC port.
  std::unique_ptr<Process> third =
      Process::Spawn(GatewayPath(),
                     {"--bind=127.0.0.1", "--http_port=0",
                      "--grpc_port=" + std::to_string(first->grpc_port()), "--threads=1"},
                     &error);
  ASSERT_NE(third, nullptr) << error;
  code = third->WaitForExit(std::chrono::seconds(5));
  ASSERT_TRUE(code) << "gateway still running on a busy gRPC port:\n" << third->Output();
  EXPECT_NE(*code, 0) << third->Output();
  EXPECT_FALSE(third->Output().empty()) << "no reason given";
  ExpectHealthy(first->http_port());
}

TEST(StartupTest, BadFlagValuesExitNonZero) {
  const std::vector<std::vector<std::string>> bad = {
      {"--threads=0"},
      {"--http_port=70000"},
      {"--grpc_port=-1"},
      {"--http_port=abc"},
      {"--max_frame_bytes=-5"},
      {"--max_subscriptions=x"},
      {"--allowed_origins=https://app.example.com/"}};
  for (const auto& extra : bad) {
    std::vector<std::string> args = {"--bind=127.0.0.1", "--http_port=0", "--grpc_port=0",
                                     "--threads=1"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::string error;
    std::unique_ptr<Process> process = Process::Spawn(GatewayPath(), args, &error);
    ASSERT_NE(process, nullptr) << error;
    std::optional<int> code = process->WaitForExit(std::chrono::seconds(20));
    ASSERT_TRUE(code) << extra[0] << " did not make the gateway exit:\n" << process->Output();
    EXPECT_NE(*code, 0) << extra[0] << "\n" << process->Output();
    EXPECT_LT(*code, 128) << extra[0] << " crashed: " << process->Output();
    EXPECT_FALSE(process->Output().empty()) << extra[0] << ": no reason given";
  }
}

}  // namespace
}  // namespace obgw::testing
