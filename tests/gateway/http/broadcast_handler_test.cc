// POST /broadcast/orderbook answered by the shard once the book is queued,
// with the subscriber count the hub published (docs/protocol.md 3.1): no hub
// runs here, so a reply that waited for routing would never come.
#include "gateway/http/broadcast_handler.h"

#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <gtest/gtest.h>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>

#include "gateway/cluster/in_memory_cluster.h"
#include "gateway/server/shard.h"
#include "gateway/server/shared_state.h"

namespace obgw::gateway {
namespace {

namespace http = boost::beast::http;

class RecordingResponder final : public HttpResponder {
 public:
  void Respond(HttpReply reply) override {
    ASSERT_FALSE(reply_) << "answered twice";
    reply_ = std::move(reply);
  }
  const std::optional<HttpReply>& reply() const { return reply_; }

 private:
  std::optional<HttpReply> reply_;
};

class BroadcastHandlerTest : public ::testing::Test {
 protected:
  static GatewayConfig Config() {
    GatewayConfig config;
    config.threads = 1;
    config.queue_high_water = 3;
    return config;
  }

  BroadcastHandlerTest()
      : config_(Config()),
        state_(config_,
               InMemoryCluster::Factory(config_.session_ttl, config_.max_connections_per_client)),
        shard_(0, state_) {}

  // Posts `body` for `symbol` (the shard is not started: this thread is its
  // owner) and returns the reply, which must already have been given.
  HttpReply Post(const std::string& symbol, std::string body = R"({"bids":[],"asks":[]})") {
    HttpRequest request(http::verb::post, "/broadcast/orderbook?symbol=" + symbol, 11);
    request.body() = std::move(body);
    auto responder = std::make_shared<RecordingResponder>();
    HandleBroadcast(shard_, request, responder);
    EXPECT_TRUE(responder->reply()) << "not answered before the hub routed the book";
    return responder->reply().value_or(HttpReply{});
  }

  static std::int64_t Subscribers(const HttpReply& reply) {
    return boost::json::parse(reply.body).at("subscribers").to_number<std::int64_t>();
  }

  // The books queued for the hub, in order (drains the queue).
  std::vector<BookUpdate> Queued() {
    std::vector<HubMessage> messages(8);
    std::size_t n =
        state_.queue.PopBulk(messages.data(), messages.size(), std::chrono::microseconds(0));
    std::vector<BookUpdate> books;
    for (std::size_t i = 0; i < n; ++i) books.push_back(std::get<BookUpdate>(messages[i]));
    return books;
  }

  GatewayConfig config_;
  SharedState state_;
  Shard shard_;
};

TEST_F(BroadcastHandlerTest, AnswersAtEnqueueWithThePublishedCount) {
  state_.subscriber_counts.Set("AAPL", 3);
  HttpReply reply = Post("AAPL", R"({"n":1})");
  EXPECT_EQ(reply.status, http::status::ok);
  EXPECT_EQ(boost::json::parse(reply.body).at("status"), "success");
  EXPECT_EQ(boost::json::parse(reply.body).at("symbol"), "AAPL");
  EXPECT_EQ(Subscribers(reply), 3);

  // A count the hub changes later is not the reply's: it is read at enqueue.
  state_.subscriber_counts.Set("AAPL", 0);
  EXPECT_EQ(Subscribers(Post("AAPL", R"({"n":2})")), 0);
  EXPECT_EQ(Subscribers(Post("MSFT")), 0) << "a symbol nobody follows";

  std::vector<BookUpdate> books = Queued();
  ASSERT_EQ(books.size(), 3u);
  EXPECT_EQ(books[0].symbol, "AAPL");
  EXPECT_EQ(books[0].data, R"({"n":1})");
  EXPECT_FALSE(books[0].on_routed) << "the hub has nothing to answer";
  EXPECT_GT(books[0].received_ns, 0);
  EXPECT_EQ(books[1].data, R"({"n":2})");
  EXPECT_EQ(books[2].symbol, "MSFT");
  EXPECT_EQ(shard_.stats().rest_accepted.load(), 3u);
}

TEST_F(BroadcastHandlerTest, FullQueueIs503WithRetryAfterAndQueuesNothing) {
  state_.subscriber_counts.Set("AAPL", 1);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Post("AAPL").status, http::status::ok);
  HttpReply reply = Post("AAPL");
  EXPECT_EQ(reply.status, http::status::service_unavailable);
  EXPECT_EQ(boost::json::parse(reply.body).at("code"), "queue_full");
  ASSERT_EQ(reply.headers.size(), 1u);
  EXPECT_EQ(reply.headers[0].first, http::field::retry_after);
  EXPECT_EQ(reply.headers[0].second, "1");
  EXPECT_EQ(Queued().size(), 3u);
  EXPECT_EQ(shard_.stats().rest_accepted.load(), 3u);
  EXPECT_EQ(shard_.stats().rest_rejected.load(), 1u);
}

TEST_F(BroadcastHandlerTest, InvalidBookIsRefusedBeforeTheQueue) {
  HttpReply reply = Post("AAPL", "[1]");
  EXPECT_EQ(reply.status, http::status::bad_request);
  EXPECT_TRUE(Queued().empty());
}

}  // namespace
}  // namespace obgw::gateway
