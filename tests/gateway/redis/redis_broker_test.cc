#include "gateway/redis/redis_broker.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "redis_test.h"

namespace obgw::gateway {
namespace {

using namespace std::chrono_literals;
using obgw::testing::RedisServer;

// One node's Redis side, as RedisCluster wires it, on the test's io_context
// (the test thread is the Redis thread); its hub is the test reading `queue`.
struct Node {
  Node(boost::asio::io_context& io, const RedisEndpoint& endpoint, const std::string& id,
       RedisBroker::Limits limits = {}, std::chrono::milliseconds command_timeout = 300ms)
      : queue(1000),
        commands(io, Options(endpoint, "commands", command_timeout), stats),
        pubsub(io, Options(endpoint, "pubsub", command_timeout), stats),
        broker(io, commands, pubsub, queue, stats, id, limits) {}

  static RedisConnection::Options Options(const RedisEndpoint& endpoint, std::string name,
                                          std::chrono::milliseconds command_timeout) {
    RedisConnection::Options options;
    options.endpoint = endpoint;
    options.name = std::move(name);
    options.connect_timeout = 300ms;
    options.command_timeout = command_timeout;
    options.backoff_min = 10ms;
    options.backoff_max = 50ms;
    return options;
  }

  void Start() {
    broker.Start();
    commands.Start([this](bool up, const std::string&) { broker.OnCommandsState(up); });
    pubsub.Start(nullptr);
  }
  void Stop() {
    commands.Stop();
    pubsub.Stop();
  }

  // What the broker pushed to the hub so far.
  std::vector<BookUpdate> Drain() {
    std::vector<BookUpdate> books;
    HubMessage messages[64];
    while (std::size_t n = queue.PopBulk(messages, 64, std::chrono::microseconds(0))) {
      for (std::size_t i = 0; i < n; ++i) books.push_back(std::get<BookUpdate>(messages[i]));
    }
    return books;
  }

  RedisStats stats;
  UpdateQueue queue;
  RedisConnection commands;
  RedisConnection pubsub;
  RedisBroker broker;
};

BookUpdate Book(const std::string& symbol, const std::string& data) {
  BookUpdate update;
  update.symbol = symbol;
  update.data = data;
  return update;
}

class RedisBrokerTest : public obgw::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    if (server_) endpoint_ = *ParseRedisUrl(server_->url());
  }

  void TearDown() override {
    OnIo([this] {
      for (auto& node : nodes_) node->Stop();
    });
  }

  Node& StartNode(const std::string& id, RedisBroker::Limits limits = {},
                  std::chrono::milliseconds command_timeout = 300ms) {
    nodes_.push_back(std::make_unique<Node>(io_, endpoint_, id, limits, command_timeout));
    Node* node = nodes_.back().get();
    OnIo([node] { node->Start(); });
    EXPECT_TRUE(RunUntil([node] { return node->broker.ready(); }));
    return *node;
  }

  // Runs until `node` pushed `count` books (or more), and returns them all.
  std::vector<BookUpdate> Receive(Node& node, std::size_t count) {
    std::vector<BookUpdate> books;
    RunUntil([&] {
      for (BookUpdate& book : node.Drain()) books.push_back(std::move(book));
      return books.size() >= count;
    });
    return books;
  }

  RedisEndpoint endpoint_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

TEST_F(RedisBrokerTest, OneSeqForTheClusterAndOwnBooksThroughTheReply) {
  Node& a = StartNode("a");
  Node& b = StartNode("b");
  std::uint64_t epoch = a.broker.epoch();
  EXPECT_EQ(b.broker.epoch(), epoch);
  EXPECT_EQ(server_->Run({"GET", "obgw:epoch"}), std::to_string(epoch));
  b.broker.Follow("AAPL");
  ASSERT_TRUE(RunUntil([&] { return b.stats.channels.load() == 1; }));

  BookUpdate first = Book("AAPL", R"({"n":1})");
  first.local_order = 1;
  EXPECT_FALSE(a.broker.Sequence(first, {}));  // Taken to Redis.
  std::vector<BookUpdate> at_a = Receive(a, 1);
  std::vector<BookUpdate> at_b = Receive(b, 1);
  ASSERT_EQ(at_a.size(), 1u);
  ASSERT_EQ(at_b.size(), 1u);
  EXPECT_EQ(at_a[0].position.offset, 1u);
  EXPECT_EQ(at_a[0].position.epoch, epoch);
  EXPECT_EQ(at_a[0].local_order, 1u);  // Its own book, handed back as it came.
  EXPECT_EQ(at_b[0].position.offset, 1u);
  EXPECT_EQ(at_b[0].position.epoch, epoch);
  EXPECT_EQ(at_b[0].local_order, 0u);
  EXPECT_EQ(at_b[0].data, R"({"n":1})");
  EXPECT_EQ(server_->Run({"HGET", "obgw:{s:AAPL}:book", "data"}), R"({"n":1})");

  // A follows too (it fetches the last book); its own next book reaches it
  // once, through the reply, not again through pub/sub.
  a.broker.Follow("AAPL");
  ASSERT_TRUE(RunUntil([&] { return a.stats.channels.load() == 1; }));
  EXPECT_EQ(Receive(a, 1).size(), 1u);
  BookUpdate second = Book("AAPL", R"({"n":2})");
  EXPECT_FALSE(b.broker.Sequence(second, {}));
  BookUpdate third = Book("AAPL", R"({"n":3})");
  EXPECT_FALSE(a.broker.Sequence(third, {}));
  at_a = Receive(a, 2);
  at_b = Receive(b, 2);
  ASSERT_TRUE(RunUntil([&] { return a.stats.books_received.load() == 1; }));
  RunFor(50ms);  // Anything extra would have come by now.
  for (BookUpdate& book : a.Drain()) at_a.push_back(std::move(book));
  ASSERT_EQ(at_a.size(), 2u);
  ASSERT_EQ(at_b.size(), 2u);
  // Each node sees seq 2 and 3 for the same books.
  for (auto* books : {&at_a, &at_b}) {
    std::sort(books->begin(), books->end(), [](const BookUpdate& x, const BookUpdate& y) {
      return x.position.offset < y.position.offset;
    });
    EXPECT_EQ((*books)[0].position.offset, 2u);
    EXPECT_EQ((*books)[0].data, R"({"n":2})");
    EXPECT_EQ((*books)[1].position.offset, 3u);
    EXPECT_EQ((*books)[1].data, R"({"n":3})");
  }
  EXPECT_EQ(a.stats.books_published.load() + b.stats.books_published.load(), 3u);
  EXPECT_GT(b.stats.cross_node_lag.Count(), 0u);
  EXPECT_EQ(a.stats.publish_round_trip.Count(), 2u);
}

TEST_F(RedisBrokerTest, OrdersLocallyUnderANewEpochPerOutage) {
  Node& a = StartNode("a");
  std::uint64_t cluster = a.broker.epoch();
  server_->Kill();
  ASSERT_TRUE(RunUntil([&] { return !a.broker.ready(); }));
  std::uint64_t local = a.broker.epoch();
  EXPECT_NE(local, cluster);
  BookUpdate book = Book("AAPL", "{}");
  EXPECT_TRUE(a.broker.Sequence(book, StreamPosition{5, cluster}));
  EXPECT_EQ(book.position.offset, 6u);
  EXPECT_EQ(book.position.epoch, local);
  EXPECT_EQ(a.stats.books_sequenced_locally.load(), 1u);

  // Redis comes back empty: a new cluster epoch, read at the reconnect.
  ASSERT_TRUE(server_->Restart());
  ASSERT_TRUE(RunUntil([&] { return a.broker.ready(); }));
  EXPECT_NE(a.broker.epoch(), cluster);
  EXPECT_EQ(server_->Run({"GET", "obgw:epoch"}), std::to_string(a.broker.epoch()));
  server_->Kill();
  ASSERT_TRUE(RunUntil([&] { return !a.broker.ready(); }));
  EXPECT_GT(a.broker.epoch(), local);  // Each outage its own.
}

TEST_F(RedisBrokerTest, BookInFlightWhenRedisStallsComesBackToBeRetried) {
  Node& a = StartNode("a");
  server_->Pause();
  BookUpdate book = Book("AAPL", R"({"n":1})");
  book.local_order = 4;
  EXPECT_FALSE(a.broker.Sequence(book, {}));
  std::vector<BookUpdate> back = Receive(a, 1);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].position.offset, 0u);
  EXPECT_EQ(back[0].retries, 1u);
  EXPECT_EQ(back[0].local_order, 4u);
  EXPECT_EQ(back[0].data, R"({"n":1})");
  EXPECT_EQ(a.stats.books_retried.load(), 1u);
  EXPECT_EQ(a.stats.timeouts.load(), 1u);
  // The hub sequences it again: Redis is down now, so locally.
  EXPECT_FALSE(a.broker.ready());
  EXPECT_TRUE(a.broker.Sequence(back[0], {}));
  EXPECT_EQ(back[0].position.offset, 1u);
  server_->Resume();
  ASSERT_TRUE(RunUntil([&] { return a.broker.ready(); }));
  // Redis answering again: a book that failed kRetries times is ordered here.
  BookUpdate stubborn = Book("AAPL", "{}");
  stubborn.retries = RedisBroker::kMaxRetries;
  EXPECT_TRUE(a.broker.Sequence(stubborn, {}));
}

BookUpdate Book(const std::string& symbol, int n, std::uint64_t local_order) {
  BookUpdate update = Book(symbol, R"({"n":)" + std::to_string(n) + "}");
  update.local_order = local_order;
  return update;
}

TEST_F(RedisBrokerTest, BoundsTheBooksInFlightAndSendsSeveralPerScript) {
  Node& a = StartNode("a", {.books_in_flight = 4, .books_per_script = 2}, 5s);
  std::uint64_t commands_before = a.stats.commands.load();
  server_->Pause();
  for (int n = 1; n <= 10; ++n) {
    BookUpdate book = Book("S" + std::to_string(n), n, 1);
    EXPECT_FALSE(a.broker.Sequence(book, {}));
  }
  // Two scripts of two books went out; the other six books wait unsent, so
  // they cannot make the connection time out.
  ASSERT_TRUE(RunUntil([&] { return a.broker.books_in_flight() == 4; }));
  RunFor(20ms);
  EXPECT_EQ(a.broker.books_in_flight(), 4u);
  EXPECT_EQ(a.broker.books_waiting(), 6u);
  EXPECT_EQ(a.stats.commands.load() - commands_before, 2u);
  server_->Resume();
  std::vector<BookUpdate> books = Receive(a, 10);
  ASSERT_EQ(books.size(), 10u);
  for (const BookUpdate& book : books) {
    EXPECT_EQ(book.position.offset, 1u) << book.symbol;
    EXPECT_EQ(book.position.epoch, a.broker.epoch());
  }
  EXPECT_EQ(a.stats.commands.load() - commands_before, 5u);
  EXPECT_EQ(a.stats.books_published.load(), 10u);
  EXPECT_EQ(a.stats.timeouts.load(), 0u);
  EXPECT_EQ(a.broker.books_in_flight(), 0u);
}

TEST_F(RedisBrokerTest, BooksWaitingBehindTheBoundAreConflatedLatestWins) {
  Node& a = StartNode("a", {.books_in_flight = 1, .books_per_script = 1}, 5s);
  server_->Pause();
  BookUpdate first = Book("AAPL", 1, 1);
  EXPECT_FALSE(a.broker.Sequence(first, {}));
  ASSERT_TRUE(RunUntil([&] { return a.broker.books_in_flight() == 1; }));
  // Behind the bound: the second book is replaced by the third, whose place
  // it keeps; the REST publisher of the second gets its answer (0).
  std::vector<std::size_t> answers;
  BookUpdate second = Book("AAPL", 2, 2);
  second.on_routed = [&answers](std::size_t subscribers) { answers.push_back(subscribers); };
  EXPECT_FALSE(a.broker.Sequence(second, {}));
  BookUpdate other = Book("MSFT", 1, 1);
  EXPECT_FALSE(a.broker.Sequence(other, {}));
  BookUpdate third = Book("AAPL", 3, 3);
  EXPECT_FALSE(a.broker.Sequence(third, {}));
  EXPECT_EQ(answers, std::vector<std::size_t>{0});
  // A book handed back for a retry does not replace a newer one waiting.
  BookUpdate retried = Book("AAPL", 0, 0);
  retried.retries = 1;
  retried.on_routed = [&answers](std::size_t subscribers) { answers.push_back(subscribers + 10); };
  EXPECT_FALSE(a.broker.Sequence(retried, {}));
  EXPECT_EQ(answers, (std::vector<std::size_t>{0, 10}));
  EXPECT_EQ(a.stats.broker_conflated.load(), 2u);
  EXPECT_EQ(a.broker.books_waiting(), 2u);

  server_->Resume();
  std::vector<BookUpdate> books = Receive(a, 3);
  RunFor(50ms);
  for (BookUpdate& book : a.Drain()) books.push_back(std::move(book));
  ASSERT_EQ(books.size(), 3u);
  EXPECT_EQ(books[0].data, R"({"n":1})");
  EXPECT_EQ(books[0].position.offset, 1u);
  EXPECT_EQ(books[1].data, R"({"n":3})");  // AAPL first waited before MSFT.
  EXPECT_EQ(books[1].position.offset, 2u);
  EXPECT_EQ(books[2].symbol, "MSFT");
  EXPECT_EQ(server_->Run({"HGET", "obgw:{s:AAPL}:book", "data"}), R"({"n":3})");
  EXPECT_EQ(a.stats.timeouts.load(), 0u);
}

TEST_F(RedisBrokerTest, BadMessagesAreCountedAndDropped) {
  Node& b = StartNode("b");
  b.broker.Follow("AAPL");
  ASSERT_TRUE(RunUntil([&] { return b.stats.channels.load() == 1; }));
  const std::string channel = RedisBroker::Channel("AAPL");
  for (const char* payload : {"nonsense", "1 2 other 3", "x 2 other 3\n{}", "1 2 other\n{}",
                              "0 2 other 3\n{}", "1 2 other 3\nnot json", "1 2 other 3\n[1]",
                              "1 2 other 3\n{\"a\":1", "1 2 other 3 4\n{}", "1 2 b 3\n{}"}) {
    ASSERT_TRUE(server_->Run({"PUBLISH", channel, payload})) << payload;
  }
  ASSERT_TRUE(server_->Run({"PUBLISH", channel, "7 9 other 1\n{\"a\":1}"}));
  std::vector<BookUpdate> books = Receive(b, 1);
  ASSERT_EQ(books.size(), 1u);
  EXPECT_EQ(books[0].position.offset, 7u);
  EXPECT_EQ(books[0].position.epoch, 9u);
  EXPECT_EQ(books[0].data, R"({"a":1})");
  EXPECT_EQ(b.stats.bad_replies.load(), 9u);  // The last one was b's own: skipped, not bad.
  EXPECT_EQ(b.stats.books_received.load(), 1u);
}

TEST_F(RedisBrokerTest, FollowFetchesTheLastBookAndValidatesIt) {
  Node& a = StartNode("a");
  for (int n = 1; n <= 2; ++n) {
    BookUpdate book = Book("MSFT", R"({"n":)" + std::to_string(n) + "}");
    EXPECT_FALSE(a.broker.Sequence(book, {}));
  }
  ASSERT_EQ(Receive(a, 2).size(), 2u);
  Node& b = StartNode("b");
  b.broker.Follow("MSFT");
  std::vector<BookUpdate> books = Receive(b, 1);
  ASSERT_EQ(books.size(), 1u);
  EXPECT_EQ(books[0].position.offset, 2u);
  EXPECT_EQ(books[0].data, R"({"n":2})");
  EXPECT_EQ(b.stats.books_fetched.load(), 1u);

  ASSERT_TRUE(server_->Run(
      {"HSET", RedisBroker::StreamKey("BAD"), "seq", "x", "epoch", "1", "data", "{}"}));
  b.broker.Follow("BAD");
  ASSERT_TRUE(RunUntil([&] { return b.stats.bad_replies.load() == 1; }));
  b.broker.Follow("NEVER");  // Nothing published: nothing pushed, nothing bad.
  ASSERT_TRUE(RunUntil([&] { return b.stats.channels.load() == 3; }));
  RunFor(50ms);
  EXPECT_TRUE(b.Drain().empty());
  EXPECT_EQ(b.stats.bad_replies.load(), 1u);
}

}  // namespace
}  // namespace obgw::gateway
