// Publisher auth (--publish_tokens): without one of the tokens nobody can
// publish over REST (401) or gRPC (UNAUTHENTICATED), and nothing of such a
// publish reaches a subscriber; with either of two tokens (rotation) books
// flow. Counted per source; no token ever shows in /stats, /metrics, the log
// or an answer.

#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
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

using std::chrono::milliseconds;

const std::string kFirst = "first-publish-token-0123456789";
const std::string kSecond = "second-publish-token-0123456789";
const std::string kWrong = "wrong-publish-token-0123456789";

std::string TokensFlag() { return "--publish_tokens=" + kFirst + "," + kSecond; }

HttpResponse Post(int port, const std::string& body, const Headers& headers) {
  return HttpRequest(port, "POST", "/broadcast/orderbook?symbol=AAPL", body, headers);
}

// A REST book whose data says which it is: {"n":<n>,"bids":[],"asks":[]}.
std::string Book(int n) { return R"({"n":)" + std::to_string(n) + R"(,"bids":[],"asks":[]})"; }

// The sum of the samples in Prometheus `text` whose line starts with
// `series` (a family and its first labels: REST counters come per shard).
double SumOf(const std::string& text, const std::string& series) {
  double sum = 0;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series, 0) == 0) sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

// Reads `count` AAPL updates and returns the integers at `path` of each.
std::set<std::int64_t> ReadValues(WsTestClient& subscriber, std::string_view path, int count) {
  std::set<std::int64_t> values;
  for (int i = 0; i < count; ++i) {
    std::optional<boost::json::object> update = ReadUpdate(subscriber, "AAPL");
    EXPECT_TRUE(update) << subscriber.error();
    if (!update) break;
    values.insert(FindInt(*update, path).value_or(-1));
  }
  return values;
}

// Nothing a test sent as a token shows in `text`.
void ExpectNoToken(const std::string& where, const std::string& text) {
  for (const std::string& token : {kFirst, kSecond, kWrong}) {
    EXPECT_EQ(text.find(token), std::string::npos) << where << " shows a token:\n" << text;
  }
}

TEST(PublishAuthTest, RestWithoutAValidTokenIs401AndDeliversNothing) {
  OBGW_START_GATEWAY(gw, {TokensFlag()});
  const int port = gw->http_port();
  WsTestClient subscriber;
  ASSERT_TRUE(subscriber.Connect(port, "watcher")) << subscriber.error();
  std::string error;
  ASSERT_TRUE(Subscribe(subscriber, "AAPL", &error)) << error;

  HttpResponse none = Post(port, Book(100), {});
  EXPECT_EQ(none.status, 401) << none.Describe();
  ExpectErrorBody(none, "unauthorized");
  EXPECT_EQ(none.Header("www-authenticate"), "Bearer realm=\"publish\"") << none.Describe();
  HttpResponse wrong = Post(port, Book(101), {{"Authorization", "Bearer " + kWrong}});
  EXPECT_EQ(wrong.status, 401) << wrong.Describe();
  ExpectErrorBody(wrong, "unauthorized");
  EXPECT_EQ(wrong.Header("www-authenticate"), "Bearer realm=\"publish\", error=\"invalid_token\"");
  ExpectNoToken("a 401", wrong.body);

  // Both tokens of a rotation work; the subscriber gets exactly these books.
  EXPECT_TRUE(
      IsBroadcastSuccess(Post(port, Book(1), {{"Authorization", "Bearer " + kFirst}}), "AAPL", 1));
  EXPECT_TRUE(
      IsBroadcastSuccess(Post(port, Book(2), {{"Authorization", "Bearer " + kSecond}}), "AAPL", 1));
  // Two connections, maybe two I/O threads: the hub keeps no order between them.
  EXPECT_EQ(ReadValues(subscriber, "data.n", 2), (std::set<std::int64_t>{1, 2}));
  boost::json::value stats = GetStats(port);
  EXPECT_EQ(FindInt(stats, "ingest.rest_unauthorized"), 2) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ingest.rest_accepted"), 2) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ingest.rest_rejected"), 0) << Str(stats);
  // The hub saw the two books and no other: the refused ones never got in.
  EXPECT_EQ(FindInt(stats, "updates_routed"), 2) << Str(stats);
  std::string metrics = HttpGet(port, "/metrics").body;
  EXPECT_EQ(SumOf(metrics, "obgw_ingest_publish_unauthorized_total{source=\"rest\""), 2) << metrics;
  ExpectNoToken("/stats", Str(stats));
  ExpectNoToken("/metrics", metrics);
  ExpectNoToken("the log", gw->Output());
}

TEST(PublishAuthTest, GrpcWithoutAValidTokenIsUnauthenticatedAndDeliversNothing) {
  OBGW_START_GATEWAY(gw, {TokensFlag()});
  WsTestClient subscriber;
  ASSERT_TRUE(subscriber.Connect(gw->http_port(), "watcher")) << subscriber.error();
  std::string error;
  ASSERT_TRUE(Subscribe(subscriber, "AAPL", &error)) << error;

  const std::vector<orderbook::v1::OrderBookUpdate> refused_books = {MakeUpdate("AAPL", 100)};
  struct Refused {
    GrpcMetadata metadata;
    bool batch;
  };
  for (const Refused& c :
       {Refused{{}, false}, Refused{{{"authorization", "Bearer " + kWrong}}, false},
        Refused{{}, true}, Refused{{{"authorization", kFirst}}, true}}) {
    PublishResult result =
        c.batch
            ? PublishBatchStream(gw->grpc_target(), SplitIntoBatches(refused_books, {1}),
                                 std::chrono::seconds(10), c.metadata)
            : PublishStream(gw->grpc_target(), refused_books, std::chrono::seconds(10), c.metadata);
    EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << c.batch << ": " << result.status.error_message();
    EXPECT_NE(result.status.error_message().find("publish token"), std::string::npos)
        << result.status.error_message();
    ExpectNoToken("UNAUTHENTICATED", result.status.error_message());
  }

  PublishResult first =
      PublishStream(gw->grpc_target(), {MakeUpdate("AAPL", 1)}, std::chrono::seconds(10),
                    {{"authorization", "Bearer " + kFirst}});
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  PublishResult second = PublishBatchStream(
      gw->grpc_target(), SplitIntoBatches({MakeUpdate("AAPL", 2), MakeUpdate("AAPL", 3)}, {2}),
      std::chrono::seconds(10), {{"authorization", "bearer " + kSecond}});
  ASSERT_TRUE(second.status.ok()) << second.status.error_message();
  EXPECT_EQ(second.summary.accepted(), 2u);
  // Two streams: ordered within each, not between them.
  EXPECT_EQ(ReadValues(subscriber, "data.source_seq", 3), (std::set<std::int64_t>{1, 2, 3}));
  boost::json::value stats = GetStats(gw->http_port());
  EXPECT_EQ(FindInt(stats, "ingest.grpc_unauthenticated"), 4) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ingest.grpc_accepted"), 3) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ingest.grpc_rejected"), 0) << Str(stats);
  EXPECT_EQ(FindInt(stats, "updates_routed"), 3) << Str(stats);
  std::string metrics = HttpGet(gw->http_port(), "/metrics").body;
  EXPECT_EQ(SumOf(metrics, "obgw_ingest_publish_unauthorized_total{source=\"grpc\""), 4) << metrics;
  ExpectNoToken("the log", gw->Output());
}

TEST(PublishAuthTest, WithoutTokensAnyoneMayPublishAndTheLogWarns) {
  OBGW_START_GATEWAY(gw, {});
  EXPECT_TRUE(IsBroadcastSuccess(Post(gw->http_port(), Book(1), {}), "AAPL", 0));
  EXPECT_TRUE(PublishStream(gw->grpc_target(), {MakeUpdate("AAPL", 1)}).status.ok());
  EXPECT_NE(gw->Output().find("publisher auth is off"), std::string::npos) << gw->Output();
}

TEST(PublishAuthTest, AnUnusableTokenFailsAtStartWithoutShowingIt) {
  std::unique_ptr<Process> bad = Process::Spawn(
      GatewayPath(),
      {"--publish_tokens=" + kFirst + ",short-secret", "--http_port=0", "--grpc_port=0"});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->WaitForExit(std::chrono::seconds(5)), 2);
  EXPECT_NE(bad->Output().find("token 2 of 2 is shorter than 16"), std::string::npos)
      << bad->Output();
  EXPECT_EQ(bad->Output().find("short-secret"), std::string::npos) << bad->Output();
  ExpectNoToken("the start error", bad->Output());
}

TEST(PublishAuthTest, FeedSendsItsTokenFromTheFlagOrTheEnvironment) {
  OBGW_START_GATEWAY(gw, {TokensFlag()});
  std::string error;
  auto run_feed = [&](std::vector<std::string> args, std::vector<std::string> environment) {
    args.insert(args.end(), {"--target=" + gw->grpc_target(), "--symbols=1", "--count=5",
                             "--rate=0", "--report_every_s=0"});
    std::unique_ptr<Process> feed =
        Process::Spawn(BinDir() + "/orderbook-feed", args, &error, environment);
    EXPECT_NE(feed, nullptr) << error;
    if (feed == nullptr) return -1;
    std::optional<int> code = feed->WaitForExit(std::chrono::seconds(20));
    EXPECT_TRUE(code) << feed->Output();
    ExpectNoToken("the feed's log", feed->Output());
    return code.value_or(-1);
  };
  EXPECT_EQ(run_feed({}, {}), 1) << "no token: the stream fails";
  EXPECT_EQ(run_feed({"--publish_token=" + kFirst}, {}), 0);
  EXPECT_EQ(run_feed({}, {"PUBLISH_TOKEN=" + kSecond}), 0);
  boost::json::value stats = GetStats(gw->http_port());
  EXPECT_EQ(FindInt(stats, "ingest.grpc_accepted"), 10) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ingest.grpc_unauthenticated"), 1) << Str(stats);
}

TEST(PublishAuthTest, LoadgenSendsItsTokenOverHttpAndGrpc) {
  OBGW_START_GATEWAY(gw, {TokensFlag()});
  for (const char* publish : {"http", "grpc"}) {
    std::string error;
    std::unique_ptr<Process> loadgen = Process::Spawn(
        BinDir() + "/orderbook-loadgen",
        {"--host=127.0.0.1", "--http_port=" + std::to_string(gw->http_port()),
         "--grpc_port=" + std::to_string(gw->grpc_port()), std::string("--publish=") + publish,
         "--publish_token=" + kSecond, "--clients=1", "--publishers=1", "--rate=50",
         "--duration_s=0.3", "--drain_s=0.5"},
        &error);
    ASSERT_NE(loadgen, nullptr) << error;
    ASSERT_EQ(loadgen->WaitForExit(std::chrono::seconds(30)), 0) << loadgen->Output();
    // The result is the one JSON line of its output.
    boost::json::value result;
    std::istringstream lines(loadgen->Output());
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("{")) result = boost::json::parse(line);
    }
    EXPECT_GT(FindInt(result, "published").value_or(0), 0) << publish << ": " << Str(result);
    EXPECT_EQ(FindInt(result, "publish_rejected"), 0) << publish << ": " << Str(result);
    ExpectNoToken("the loadgen's output", loadgen->Output());
  }
  boost::json::value stats = GetStats(gw->http_port());
  EXPECT_EQ(FindInt(stats, "ingest.rest_unauthorized"), 0) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ingest.grpc_unauthenticated"), 0) << Str(stats);
}

}  // namespace
}  // namespace obgw::testing
