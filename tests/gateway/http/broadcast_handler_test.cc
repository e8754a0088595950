// POST /broadcast/orderbook answered by the shard once the book is queued,
// with the subscriber count the hub published (docs/protocol.md 3.1): no hub
// runs here, so a reply that waited for routing would never come.
#include "gateway/http/broadcast_handler.h"

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>

#include "gateway/auth/publish_tokens.h"
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
  static GatewayConfig Config(std::shared_ptr<const PublishTokens> tokens) {
    GatewayConfig config;
    config.threads = 1;
    config.queue_high_water = 3;
    config.publish_tokens = std::move(tokens);
    return config;
  }

  explicit BroadcastHandlerTest(std::shared_ptr<const PublishTokens> tokens = nullptr)
      : config_(Config(std::move(tokens))),
        state_(config_,
               InMemoryCluster::Factory(config_.session_ttl, config_.max_connections_per_client)),
        shard_(0, state_) {}

  // Posts `body` for `symbol` (the shard is not started: this thread is its
  // owner) and returns the reply, which must already have been given.
  HttpReply Post(const std::string& symbol, std::string body = R"({"bids":[],"asks":[]})") {
    HttpRequest request(http::verb::post, "/broadcast/orderbook?symbol=" + symbol, 11);
    request.body() = std::move(body);
    return Send(request);
  }

  HttpReply Send(HttpRequest& request) {
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

// With --publish_tokens: 401 before anything else, the book never queued.
class AuthorizedBroadcastHandlerTest : public BroadcastHandlerTest {
 protected:
  static constexpr const char* kFirst = "first-token-0123456789";
  static constexpr const char* kSecond = "second-token-0123456789";

  AuthorizedBroadcastHandlerTest() : BroadcastHandlerTest(Tokens()) {}

  static std::shared_ptr<const PublishTokens> Tokens() {
    auto tokens = PublishTokens::Create({kFirst, kSecond});
    EXPECT_TRUE(tokens.ok()) << tokens.status();
    return std::make_shared<const PublishTokens>(*std::move(tokens));
  }

  // POSTs a valid book with these Authorization headers.
  HttpReply PostWith(const std::vector<std::string>& authorizations) {
    HttpRequest request(http::verb::post, "/broadcast/orderbook?symbol=AAPL", 11);
    for (const std::string& value : authorizations)
      request.insert(http::field::authorization, value);
    request.body() = R"({"bids":[],"asks":[]})";
    return Send(request);
  }

  static std::string Challenge(const HttpReply& reply) {
    for (const auto& [field, value] : reply.headers) {
      if (field == http::field::www_authenticate) return value;
    }
    return "";
  }
};

TEST_F(AuthorizedBroadcastHandlerTest, NoOrWrongTokenIs401AndQueuesNothing) {
  struct Case {
    std::vector<std::string> authorizations;
    const char* challenge;
  };
  for (const Case& c : {
           Case{{}, "Bearer realm=\"publish\""},
           Case{{"Bearer wrong-token-0123456789"},
                "Bearer realm=\"publish\", error=\"invalid_token\""},
           Case{{"Basic Zmlyc3QtdG9rZW4="}, "error=\"invalid_token\""},
           Case{{std::string("Bearer ") + kFirst + "x"}, "error=\"invalid_token\""},
           // Two headers are refused even when one of them is right.
           Case{{std::string("Bearer ") + kFirst, std::string("Bearer ") + kFirst},
                "error=\"invalid_token\""},
       }) {
    HttpReply reply = PostWith(c.authorizations);
    EXPECT_EQ(reply.status, http::status::unauthorized) << c.challenge;
    EXPECT_EQ(boost::json::parse(reply.body).at("code"), "unauthorized");
    EXPECT_EQ(reply.body.find("token-0123456789"), std::string::npos) << reply.body;
    EXPECT_NE(Challenge(reply).find(c.challenge), std::string::npos) << Challenge(reply);
  }
  EXPECT_TRUE(Queued().empty());
  EXPECT_EQ(shard_.stats().rest_unauthorized.load(), 5u);
  EXPECT_EQ(shard_.stats().rest_accepted.load(), 0u);
  EXPECT_EQ(shard_.stats().rest_rejected.load(), 0u);
}

TEST_F(AuthorizedBroadcastHandlerTest, EitherTokenPublishes) {
  EXPECT_EQ(PostWith({std::string("Bearer ") + kFirst}).status, http::status::ok);
  EXPECT_EQ(PostWith({std::string("bearer ") + kSecond}).status, http::status::ok);
  EXPECT_EQ(Queued().size(), 2u);
  EXPECT_EQ(shard_.stats().rest_accepted.load(), 2u);
  EXPECT_EQ(shard_.stats().rest_unauthorized.load(), 0u);
}

TEST_F(BroadcastHandlerTest, WithoutTokensAnyoneMayPublish) {
  HttpRequest request(http::verb::post, "/broadcast/orderbook?symbol=AAPL", 11);
  request.set(http::field::authorization, "Bearer whatever");
  request.body() = R"({"bids":[],"asks":[]})";
  EXPECT_EQ(Send(request).status, http::status::ok);
  EXPECT_EQ(shard_.stats().rest_unauthorized.load(), 0u);
}

}  // namespace
}  // namespace obgw::gateway
