// Several gateway nodes on one Redis (--redis_url), each test with its own
// redis-server on a free port: cross-node delivery with one seq per symbol,
// snapshots served from Redis to a node that just started, and a Redis
// outage (each node keeps serving its own clients, degraded, and the cluster
// comes back without restarting a gateway).

#include <atomic>
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
#include "grpc_test_client.h"
#include "http_test_client.h"
#include "redis_server.h"
#include "test_util.h"
#include "ws_test_client.h"

namespace obgw::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A book whose data names where it came from: {"bids":[[<n>,1]],"asks":[]}.
std::string Book(int n) { return R"({"bids":[[)" + std::to_string(n) + R"(,1]],"asks":[]})"; }

// The first bid's price of an update's data (which book it is), or -1.
double BookNumber(const json::object& update) {
  const json::value* data = update.if_contains("data");
  if (!data || !data->is_object()) return -1;
  const json::value* bids = data->as_object().if_contains("bids");
  if (!bids || !bids->is_array() || bids->as_array().empty()) return -1;
  return bids->as_array()[0].as_array()[0].to_number<double>();
}

std::uint64_t Seq(const json::object& update) {
  return update.at("seq").to_number<std::uint64_t>();
}

std::string HealthStatus(int port, std::string* reason = nullptr) {
  HttpResponse response = HttpGet(port, "/health");
  json::value body = response.Json();
  if (!body.is_object()) return "no answer";
  if (reason) {
    const json::value* why = body.as_object().if_contains("reason");
    *reason = why && why->is_string() ? std::string(why->as_string()) : "";
  }
  const json::value* status = body.as_object().if_contains("status");
  return status && status->is_string() ? std::string(status->as_string()) : "?";
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
  auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    redis_ = RedisServer::Start(&error);
    ASSERT_TRUE(redis_) << error;
  }

  // A node on the test's Redis, healthy (connected) unless `wait_healthy` is false.
  std::unique_ptr<GatewayProcess> StartNode(const std::string& node_id, bool wait_healthy = true) {
    std::string error;
    auto node = StartGateway(
        {"--redis_url=" + redis_->url(), "--node_id=" + node_id, "--redis_timeout_ms=300"}, &error);
    EXPECT_TRUE(node) << error;
    if (node && wait_healthy) {
      EXPECT_TRUE(WaitFor([&] { return HealthStatus(node->http_port()) == "healthy"; }))
          << node->Output();
    }
    return node;
  }

  // A WebSocket client of `node` subscribed to `symbol`, once the node's
  // subscription reached Redis (`channels`: the node's subscribed channels
  // then).
  std::unique_ptr<WsTestClient> Subscriber(GatewayProcess& node, const std::string& symbol,
                                           std::int64_t channels = 1) {
    auto client = std::make_unique<WsTestClient>();
    // One client_id per node: a client_id's first connection on a node gets
    // the id's session restored (protocol.md 2.14), which would come before
    // this subscribe's confirmation.
    EXPECT_TRUE(
        client->Connect(node.http_port(), "c-" + symbol + "-" + std::to_string(node.http_port())))
        << client->error();
    std::string error;
    EXPECT_TRUE(Subscribe(*client, symbol, &error)) << error;
    json::value stats = WaitForStat(node.http_port(), "redis.subscribed_channels", channels);
    EXPECT_EQ(FindInt(stats, "redis.subscribed_channels"), channels) << json::serialize(stats);
    return client;
  }

  std::unique_ptr<RedisServer> redis_;
};

TEST_F(ClusterTest, BooksFromEitherNodeReachBothWithOneSeq) {
  auto a = StartNode("node-a");
  auto b = StartNode("node-b");
  ASSERT_TRUE(a && b);
  auto on_a = Subscriber(*a, "AAPL");
  auto on_b = Subscriber(*b, "AAPL");

  // REST through A reaches B; A's reply counts A's own subscriber.
  ASSERT_TRUE(IsBroadcastSuccess(PostBook(a->http_port(), "AAPL", Book(1)), "AAPL", 1));
  auto first_b = ReadUpdate(*on_b, "AAPL");
  auto first_a = ReadUpdate(*on_a, "AAPL");
  ASSERT_TRUE(first_a && first_b);
  EXPECT_EQ(BookNumber(*first_b), 1);
  EXPECT_EQ(Seq(*first_a), Seq(*first_b));

  // Alternately through A (REST) and B (gRPC): the same seq for the same
  // book on both nodes, strictly increasing.
  std::uint64_t last = Seq(*first_a);
  for (int n = 2; n <= 11; ++n) {
    if (n % 2 == 0) {
      ASSERT_TRUE(IsBroadcastSuccess(PostBook(a->http_port(), "AAPL", Book(n)), "AAPL", 1));
    } else {
      PublishResult result = PublishStream(b->grpc_target(), {MakeUpdate("AAPL", n)});
      ASSERT_TRUE(result.status.ok()) << result.status.error_message();
      ASSERT_EQ(result.summary.accepted(), 1u);
    }
    auto got_a = ReadUpdate(*on_a, "AAPL");
    auto got_b = ReadUpdate(*on_b, "AAPL");
    ASSERT_TRUE(got_a && got_b) << "book " << n;
    EXPECT_EQ(Seq(*got_a), last + 1) << json::serialize(*got_a);
    EXPECT_EQ(Seq(*got_b), last + 1) << json::serialize(*got_b);
    EXPECT_EQ(json::serialize(got_a->at("data")), json::serialize(got_b->at("data")));
    if (n % 2 == 0) {
      EXPECT_EQ(BookNumber(*got_a), n);
    }
    last = Seq(*got_a);
  }
  json::value stats_a = GetStats(a->http_port());
  EXPECT_EQ(FindInt(stats_a, "redis.books_published"), 6);
  EXPECT_EQ(FindInt(stats_a, "redis.books_received"), 5);
  EXPECT_EQ(FindInt(stats_a, "redis.books_sequenced_locally"), 0);
  EXPECT_EQ(FindInt(stats_a, "redis.bad_replies"), 0);
  const json::value* node_id = Find(stats_a, "node_id");
  ASSERT_TRUE(node_id && node_id->is_string());
  EXPECT_EQ(node_id->as_string(), "node-a");
  // The cluster's histograms are in /metrics.
  std::string metrics = HttpGet(b->http_port(), "/metrics").body;
  EXPECT_NE(metrics.find("obgw_cluster_cross_node_lag_seconds_count 6"), std::string::npos);
  EXPECT_NE(metrics.find("obgw_redis_connections_up 2"), std::string::npos);
}

TEST_F(ClusterTest, NodeStartedLaterServesTheSnapshotFromRedis) {
  auto a = StartNode("node-a");
  ASSERT_TRUE(a);
  for (int n = 1; n <= 3; ++n) {
    ASSERT_TRUE(IsBroadcastSuccess(PostBook(a->http_port(), "MSFT", Book(n)), "MSFT", 0));
  }
  ASSERT_EQ(redis_->Run({"HGET", "obgw:{s:MSFT}:book", "seq"}), "3");
  auto b = StartNode("node-b");
  ASSERT_TRUE(b);
  // The first subscriber on B gets the last book, as its snapshot, once B
  // has fetched it from Redis...
  auto first = Subscriber(*b, "MSFT");
  auto book = ReadUpdate(*first, "MSFT");
  ASSERT_TRUE(book);
  EXPECT_EQ(book->at("snapshot"), true);
  EXPECT_EQ(Seq(*book), 3u);
  EXPECT_EQ(BookNumber(*book), 3);
  // ...and every later one as its snapshot, at once.
  WsTestClient second;
  ASSERT_TRUE(second.Connect(b->http_port(), "second"));
  ASSERT_TRUE(second.SendText(R"({"action":"subscribe","symbol":"MSFT"})"));
  auto snapshot = ReadUpdate(second, "MSFT", 2s);
  ASSERT_TRUE(snapshot);
  EXPECT_EQ(snapshot->at("snapshot"), true);
  EXPECT_EQ(Seq(*snapshot), 3u);
  EXPECT_EQ(BookNumber(*snapshot), 3);
}

TEST_F(ClusterTest, RedisOutageKeepsLocalDeliveryAndHeals) {
  auto a = StartNode("node-a");
  auto b = StartNode("node-b");
  ASSERT_TRUE(a && b);
  auto on_a = Subscriber(*a, "TSLA");
  auto on_b = Subscriber(*b, "TSLA");
  ASSERT_TRUE(IsBroadcastSuccess(PostBook(a->http_port(), "TSLA", Book(1)), "TSLA", 1));
  ASSERT_TRUE(ReadUpdate(*on_a, "TSLA") && ReadUpdate(*on_b, "TSLA"));

  // A gRPC publisher on A writes a book every 2 ms (its first bid's price
  // numbers it: 1000, 1001, ...) while Redis dies under it: A's client keeps
  // getting A's books, seq strictly increasing across the switch to the
  // local epoch, which the first local book announces.
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread publisher([&] {
    PublishStreamWriter writer(a->grpc_target());
    for (int n = 1000; !stop.load(); ++n) {
      orderbook::v1::OrderBookUpdate update = MakeUpdate("TSLA", 0, 1);
      update.mutable_bids(0)->set_price(n);
      if (!writer.Write(update)) break;
      written.store(n);
      std::this_thread::sleep_for(2ms);
    }
    writer.Finish();
  });
  std::uint64_t last = 1;
  double last_book = 0;
  bool killed = false;
  bool saw_local_epoch = false;
  for (int read = 0; read < 150; ++read) {
    auto got = ReadUpdate(*on_a, "TSLA", 3s);
    ASSERT_TRUE(got) << "after " << read << " books: " << a->Output();
    EXPECT_GT(Seq(*got), last) << json::serialize(*got);
    EXPECT_GT(BookNumber(*got), last_book) << "an older book after a newer one";
    last = Seq(*got);
    last_book = BookNumber(*got);
    saw_local_epoch |= killed && got->contains("epoch");
    if (read == 30) {
      redis_->Kill();
      killed = true;
    }
  }
  stop.store(true);
  publisher.join();
  EXPECT_TRUE(saw_local_epoch);
  // The newest book written reaches A's client (possibly after books the
  // hub dropped as superseded: none older is shown after it).
  while (last_book < written.load()) {
    auto got = ReadUpdate(*on_a, "TSLA", 3s);
    ASSERT_TRUE(got) << "book " << written.load() << " never came; last " << last_book;
    EXPECT_GT(BookNumber(*got), last_book);
    last_book = BookNumber(*got);
  }
  std::string reason;
  ASSERT_TRUE(WaitFor([&] { return HealthStatus(a->http_port(), &reason) == "degraded"; }));
  EXPECT_NE(reason.find("redis unreachable"), std::string::npos) << reason;
  EXPECT_EQ(reason.find("redis://"), std::string::npos) << reason;
  ASSERT_TRUE(WaitFor([&] { return HealthStatus(b->http_port()) == "degraded"; }));
  // B serves its own books meanwhile.
  ASSERT_TRUE(IsBroadcastSuccess(PostBook(b->http_port(), "TSLA", Book(7)), "TSLA", 1));
  std::optional<json::object> own;
  while (auto got = ReadUpdate(*on_b, "TSLA", 3s)) {  // A's books from before the kill first.
    if (BookNumber(*got) == 7) {
      own = got;
      break;
    }
  }
  ASSERT_TRUE(own);
  EXPECT_GT(FindInt(GetStats(a->http_port()), "redis.books_sequenced_locally").value_or(0), 0);

  // Redis back on the same port (empty: no persistence): within 2 s books
  // from A reach B again, in a new epoch that the first book announces.
  auto restarted = Clock::now();
  ASSERT_TRUE(redis_->Restart());
  std::optional<json::object> crossed;
  for (int n = 5000; !crossed && Clock::now() - restarted < 4s; ++n) {
    ASSERT_TRUE(IsBroadcastSuccess(PostBook(a->http_port(), "TSLA", Book(n)), "TSLA", 1));
    while (auto got = ReadUpdate(*on_b, "TSLA", 100ms)) {
      if (BookNumber(*got) >= 5000) {
        crossed = got;
        break;
      }
    }
  }
  ASSERT_TRUE(crossed) << b->Output();
  auto took = Clock::now() - restarted;
  EXPECT_LT(took, 2s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  EXPECT_TRUE(crossed->contains("epoch")) << json::serialize(*crossed);
  EXPECT_TRUE(WaitFor([&] { return HealthStatus(a->http_port()) == "healthy"; }));
  EXPECT_TRUE(WaitFor([&] { return HealthStatus(b->http_port()) == "healthy"; }));
}

TEST_F(ClusterTest, NodeStartsBeforeItsRedisAndABadUrlExits) {
  int port = FreeTcpPort();
  std::string error;
  auto early = StartGateway({"--redis_url=redis://:topsecret@127.0.0.1:" + std::to_string(port),
                             "--redis_timeout_ms=300"},
                            &error);
  ASSERT_TRUE(early) << error;
  // Degraded from the start ("cluster epoch not known yet"), then, once the
  // first connect has been refused, because Redis is unreachable.
  std::string reason;
  EXPECT_EQ(HealthStatus(early->http_port(), &reason), "degraded") << reason;
  EXPECT_TRUE(WaitFor([&] {
    return HealthStatus(early->http_port(), &reason) == "degraded" &&
           reason.find("redis unreachable") != std::string::npos;
  })) << reason;
  EXPECT_EQ(early->Output().find("topsecret"), std::string::npos) << early->Output();
  std::string stats = HttpGet(early->http_port(), "/stats").body;
  EXPECT_EQ(stats.find("topsecret"), std::string::npos);

  auto bad = Process::Spawn(GatewayPath(),
                            {"--redis_url=redis://h:99999", "--http_port=0", "--grpc_port=0"});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->WaitForExit(5s), 2);
  EXPECT_NE(bad->Output().find("port '99999'"), std::string::npos) << bad->Output();
}

}  // namespace
}  // namespace obgw::testing
