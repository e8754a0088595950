// The two-node example of deploy/cluster, driven end to end: one
// redis-server, gateways A and B on it (--redis_url), and nginx configured
// from deploy/cluster/nginx.conf.template in front of them. A WebSocket client
// connects through nginx, subscribes and receives a live book; the node that
// serves it is SIGKILLed; the client reconnects through nginx with the same
// client_id, lands on the other node, and gets session_restored, the
// last book and the next live book without subscribing again. Books
// published over gRPC to nginx's gRPC listener (the guide's
// websocket_middleware:50051 in docker-compose) reach the subscribers of
// every node, and the publish token passes through nginx as metadata.

#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "grpc_test_client.h"
#include "http_test_client.h"
#include "nginx_process.h"
#include "redis_server.h"
#include "test_util.h"
#include "ws_test_client.h"

namespace obgw::testing {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Waits until exactly one of `nodes` has an open WebSocket and returns its
// index; -1 (with the stats seen in `seen`) after `timeout`.
int ServingNode(const std::vector<GatewayProcess*>& nodes, std::string* seen,
                milliseconds timeout = milliseconds(3000)) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    int serving = -1;
    int open = 0;
    seen->clear();
    for (size_t i = 0; i < nodes.size(); ++i) {
      std::optional<std::int64_t> connections =
          FindInt(GetStats(nodes[i]->http_port()), "active_connections");
      *seen += "node " + std::to_string(i) + ": " +
               (connections ? std::to_string(*connections) : "?") + "; ";
      if (connections.value_or(0) > 0) {
        serving = static_cast<int>(i);
        open += static_cast<int>(*connections);
      }
    }
    if (open == 1) return serving;
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

// GET /health on `port` says "healthy" within 5 s (a node: connected to Redis).
::testing::AssertionResult BecomesHealthy(int port) {
  auto deadline = Clock::now() + std::chrono::seconds(5);
  HttpResponse health;
  for (;;) {
    health = HttpGet(port, "/health");
    const json::value body = health.Json();
    const json::value* status = Find(body, "status");
    if (status != nullptr && *status == "healthy") return ::testing::AssertionSuccess();
    if (Clock::now() >= deadline) {
      return ::testing::AssertionFailure() << "not healthy: " << health.Describe();
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
}

class NginxClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NginxProcess::Installed()) {
      GTEST_SKIP() << NginxProcess::kNginxPath
                   << " is missing: bash deploy/install-deps.sh installs nginx-light";
    }
    std::string error;
    redis_ = RedisServer::Start(&error);
    ASSERT_NE(redis_, nullptr) << error;
    for (const char* name : {"a", "b"}) {
      nodes_.push_back(StartGateway(
          {"--threads=1", "--redis_url=" + redis_->url(), std::string("--node_id=") + name},
          &error));
      ASSERT_NE(nodes_.back(), nullptr) << error;
    }
    for (auto& node : nodes_) ASSERT_TRUE(BecomesHealthy(node->http_port()));
    nginx_ = NginxProcess::Start({nodes_[0]->http_port(), nodes_[1]->http_port()}, &error,
                                 {nodes_[0]->grpc_port(), nodes_[1]->grpc_port()});
    ASSERT_NE(nginx_, nullptr) << error;
  }

  std::vector<GatewayProcess*> Nodes() { return {nodes_[0].get(), nodes_[1].get()}; }

  std::unique_ptr<RedisServer> redis_;
  std::vector<std::unique_ptr<GatewayProcess>> nodes_;
  std::unique_ptr<NginxProcess> nginx_;
};

TEST_F(NginxClusterTest, ClientKeepsItsBooksWhenItsNodeIsKilled) {
  const int port = nginx_->port();
  WsTestClient client;
  ASSERT_TRUE(client.Connect(port, "nginx-failover")) << client.error();
  std::string error;
  ASSERT_TRUE(Subscribe(client, "AAPL", &error)) << error;

  std::string stats;
  const int serving = ServingNode(Nodes(), &stats);
  ASSERT_NE(serving, -1) << "no single node holds the connection: " << stats;
  const int survivor = 1 - serving;

  // Published into the serving node itself, so the survivor never routes
  // AAPL before the failover: the last book it restores must come from Redis.
  ASSERT_EQ(PostBook(nodes_[serving]->http_port(), "AAPL", R"({"n":1})").status, 200);
  std::optional<json::object> first = ReadUpdate(client, "AAPL");
  ASSERT_TRUE(first) << client.error();
  EXPECT_EQ(Field(*first, "data"), json::parse(R"({"n":1})")) << Str(*first);
  const std::optional<std::int64_t> first_seq = FindInt(*first, "seq");
  ASSERT_TRUE(first_seq) << Str(*first);

  ASSERT_EQ(kill(nodes_[serving]->process().pid(), SIGKILL), 0);
  ASSERT_TRUE(nodes_[serving]->process().WaitForExit(std::chrono::seconds(5)));
  // nginx ends the client's side when the node's side goes.
  ASSERT_TRUE(client.WaitForClose()) << "still open after its node died";

  // The same client_id through nginx again, without subscribing: nginx
  // skips the dead node (connection refused: proxy_next_upstream error).
  const auto reconnected_at = Clock::now();
  WsTestClient again;
  ASSERT_TRUE(again.Connect(port, "nginx-failover")) << again.error();
  std::optional<json::object> restored = again.ReadJson();
  ASSERT_TRUE(restored) << again.error();
  EXPECT_EQ(TypeOf(*restored), "session_restored") << Str(*restored);
  EXPECT_EQ(Field(*restored, "symbols"), json::parse(R"(["AAPL"])")) << Str(*restored);
  // The last book comes from Redis: the survivor has never seen AAPL. As the
  // symbol's first subscriber there, the client gets it the moment the node
  // has fetched it, as its snapshot, with the same seq.
  std::optional<json::object> last_book = again.ReadJson();
  ASSERT_TRUE(last_book) << again.error();
  EXPECT_EQ(TypeOf(*last_book), "orderbook_update") << Str(*last_book);
  EXPECT_EQ(Field(*last_book, "snapshot"), json::value(true)) << Str(*last_book);
  EXPECT_EQ(Field(*last_book, "data"), json::parse(R"({"n":1})")) << Str(*last_book);
  EXPECT_EQ(FindInt(*last_book, "seq"), first_seq) << Str(*last_book);
  EXPECT_LT(Clock::now() - reconnected_at, std::chrono::seconds(1))
      << "session_restored and the last book took over 1 s";

  EXPECT_EQ(ServingNode(Nodes(), &stats), survivor) << stats;

  // The next book, published through nginx (which can only reach the
  // survivor now), arrives live and continues the sequence.
  ASSERT_EQ(PostBook(port, "AAPL", R"({"n":2})").status, 200);
  std::optional<json::object> live = ReadUpdate(again, "AAPL");
  ASSERT_TRUE(live) << again.error();
  EXPECT_EQ(Field(*live, "data"), json::parse(R"({"n":2})")) << Str(*live);
  EXPECT_FALSE(live->contains("snapshot")) << Str(*live);
  EXPECT_EQ(FindInt(*live, "seq"), *first_seq + 1) << Str(*live);
}

TEST_F(NginxClusterTest, HealthAndRestGoThroughNginx) {
  const int port = nginx_->port();
  EXPECT_TRUE(BecomesHealthy(port));

  // A subscriber on each node; a book published through nginx reaches both.
  WsTestClient on_a;
  WsTestClient on_b;
  ASSERT_TRUE(on_a.Connect(nodes_[0]->http_port(), "direct-a")) << on_a.error();
  ASSERT_TRUE(on_b.Connect(nodes_[1]->http_port(), "direct-b")) << on_b.error();
  std::string error;
  ASSERT_TRUE(Subscribe(on_a, "MSFT", &error)) << error;
  ASSERT_TRUE(Subscribe(on_b, "MSFT", &error)) << error;
  // subscription_confirmed comes before Redis confirms the node's SUBSCRIBE;
  // a book published in between could be missed (RedisBroker::Follow reads
  // the last book without waiting for that confirmation), so wait for it.
  for (auto& node : nodes_) {
    json::value stats = WaitForStat(node->http_port(), "redis.subscribed_channels", 1);
    ASSERT_EQ(FindInt(stats, "redis.subscribed_channels"), 1) << Str(stats);
  }
  ASSERT_EQ(PostBook(port, "MSFT", kGuideBody).status, 200);
  for (WsTestClient* client : {&on_a, &on_b}) {
    std::optional<json::object> book = ReadUpdate(*client, "MSFT");
    ASSERT_TRUE(book) << client->error();
    EXPECT_EQ(Field(*book, "data"), json::parse(kGuideBody)) << Str(*book);
  }
}

TEST_F(NginxClusterTest, BooksPublishedOverGrpcThroughNginxReachEveryNode) {
  // A subscriber on each node, so the book reaches both whichever node
  // nginx hands the stream to.
  WsTestClient on_a;
  WsTestClient on_b;
  ASSERT_TRUE(on_a.Connect(nodes_[0]->http_port(), "grpc-a")) << on_a.error();
  ASSERT_TRUE(on_b.Connect(nodes_[1]->http_port(), "grpc-b")) << on_b.error();
  std::string error;
  ASSERT_TRUE(Subscribe(on_a, "AAPL", &error)) << error;
  ASSERT_TRUE(Subscribe(on_b, "AAPL", &error)) << error;
  for (auto& node : nodes_) {
    json::value stats = WaitForStat(node->http_port(), "redis.subscribed_channels", 1);
    ASSERT_EQ(FindInt(stats, "redis.subscribed_channels"), 1) << Str(stats);
  }

  // One Publish stream of three books, through nginx's HTTP/2 listener.
  PublishResult result = PublishStream(
      nginx_->grpc_target(), {MakeUpdate("AAPL", 1), MakeUpdate("AAPL", 2), MakeUpdate("AAPL", 3)},
      std::chrono::seconds(10));
  ASSERT_TRUE(result.status.ok()) << result.status.error_code() << " "
                                  << result.status.error_message()
                                  << "; nginx: " << nginx_->ErrorLog();
  EXPECT_EQ(result.summary.accepted(), 3u);
  for (WsTestClient* client : {&on_a, &on_b}) {
    std::int64_t last = 0;
    while (last != 3) {
      std::optional<json::object> book = ReadUpdate(*client, "AAPL");
      ASSERT_TRUE(book) << "after source_seq " << last << ": " << client->error();
      std::optional<std::int64_t> source_seq = FindInt(*book, "data.source_seq");
      ASSERT_TRUE(source_seq) << Str(*book);
      EXPECT_GT(*source_seq, last) << Str(*book);
      last = *source_seq;
    }
  }
  // The stream went to exactly one node.
  std::int64_t accepted = 0;
  for (auto& node : nodes_) {
    accepted += FindInt(GetStats(node->http_port()), "ingest.grpc_accepted").value_or(0);
  }
  EXPECT_EQ(accepted, 3);

  // A PublishBatch stream goes through as well.
  PublishResult batch = PublishBatchStream(
      nginx_->grpc_target(), SplitIntoBatches({MakeUpdate("AAPL", 4), MakeUpdate("AAPL", 5)}, {2}),
      std::chrono::seconds(10));
  ASSERT_TRUE(batch.status.ok()) << batch.status.error_message();
  EXPECT_EQ(batch.summary.accepted(), 2u);
  std::optional<json::object> fifth = ReadUpdate(on_a, "AAPL");
  ASSERT_TRUE(fifth) << on_a.error();
  std::optional<std::int64_t> fifth_seq = FindInt(*fifth, "data.source_seq");
  // Latest wins: 4 may be replaced by 5, never the other way round.
  if (fifth_seq == 4) {
    fifth = ReadUpdate(on_a, "AAPL");
    ASSERT_TRUE(fifth) << on_a.error();
    fifth_seq = FindInt(*fifth, "data.source_seq");
  }
  EXPECT_EQ(fifth_seq, 5) << Str(*fifth);
}

// The publish token travels through nginx as the authorization metadata: a
// node with --publish_tokens accepts the stream that carries it and refuses
// the one without.
TEST(NginxGrpcAuthTest, PublishTokenPassesThroughNginx) {
  if (!NginxProcess::Installed()) GTEST_SKIP() << NginxProcess::kNginxPath << " is missing";
  const std::string token = "nginx-publish-token-0123456789";
  std::string error;
  std::unique_ptr<GatewayProcess> node = StartGateway({"--publish_tokens=" + token}, &error);
  ASSERT_NE(node, nullptr) << error;
  std::unique_ptr<NginxProcess> nginx =
      NginxProcess::Start({node->http_port()}, &error, {node->grpc_port()});
  ASSERT_NE(nginx, nullptr) << error;

  PublishResult refused =
      PublishStream(nginx->grpc_target(), {MakeUpdate("AAPL", 1)}, std::chrono::seconds(10));
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << refused.status.error_message();
  PublishResult accepted =
      PublishStream(nginx->grpc_target(), {MakeUpdate("AAPL", 2)}, std::chrono::seconds(10),
                    {{"authorization", "Bearer " + token}});
  ASSERT_TRUE(accepted.status.ok())
      << accepted.status.error_code() << " " << accepted.status.error_message();
  EXPECT_EQ(accepted.summary.accepted(), 1u);
}

}  // namespace
}  // namespace obgw::testing
