#include "gateway/redis/redis_session_store.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "redis_test.h"
#include "redis_test_node.h"

namespace obgw::gateway {
namespace {

using namespace std::chrono_literals;
using Opened = SessionStore::Opened;
using Symbols = SessionStore::Symbols;

// Two nodes' session stores on one redis-server; the test thread is their
// Redis thread and the shards' too.
class RedisSessionStoreTest : public obgw::testing::RedisTest {
 protected:
  static constexpr std::size_t kLimit = 2;

  void TearDown() override {
    OnIo([this] {
      for (auto& node : nodes_) node->Stop();
    });
  }

  RedisTestNode& StartNode(const std::string& id, std::chrono::milliseconds ttl = 60s,
                           std::chrono::milliseconds lease = 3s) {
    nodes_.push_back(std::make_unique<RedisTestNode>(io_, server_->url(), id, kLimit, ttl, lease));
    RedisTestNode* node = nodes_.back().get();
    OnIo([node] { node->Start(); });
    EXPECT_TRUE(RunUntil([node] { return node->stats.registry_beats.load() > 0; }));
    return *node;
  }

  // Opens a connection of `id` on `node`; what the store answered.
  Opened Open(RedisTestNode& node, const std::string& id) {
    std::optional<Opened> answer;
    node.sessions.Open(id, io_.get_executor(), [&](Opened opened) { answer = opened; });
    EXPECT_FALSE(answer.has_value());  // Never inside the call.
    EXPECT_TRUE(RunUntil([&] { return answer.has_value(); }));
    return answer.value_or(Opened{});
  }
  // Lets every update posted so far reach Redis (one round trip after them).
  void Settle(RedisTestNode& node) {
    bool done = false;
    OnIo([&] { node.connection.Command({"PING"}, [&](const RedisReply*) { done = true; }); });
    ASSERT_TRUE(RunUntil([&] { return done; }));
  }
  std::string Redis(std::vector<std::string> argv) { return server_->Run(argv).value_or("?"); }

  std::vector<std::unique_ptr<RedisTestNode>> nodes_;
};

TEST_F(RedisSessionStoreTest, PerClientLimitHoldsAcrossNodes) {
  RedisTestNode& a = StartNode("node-a");
  RedisTestNode& b = StartNode("node-b");
  EXPECT_TRUE(Open(a, "alice").admitted);
  EXPECT_TRUE(Open(b, "alice").admitted);
  EXPECT_FALSE(Open(a, "alice").admitted);
  EXPECT_FALSE(Open(b, "alice").admitted);
  EXPECT_TRUE(Open(b, "bob").admitted);  // Its own budget.
  EXPECT_EQ(Redis({"HGET", "obgw:{c:alice}:conns", "node-a"}), "1");
  EXPECT_EQ(Redis({"HGET", "obgw:{c:alice}:conns", "node-b"}), "1");
  // A refused connection is not counted and is never Closed; one close frees one slot.
  a.sessions.Close("alice");
  Settle(a);
  EXPECT_EQ(Redis({"HEXISTS", "obgw:{c:alice}:conns", "node-a"}), "0");
  EXPECT_TRUE(Open(b, "alice").admitted);
  EXPECT_FALSE(Open(a, "alice").admitted);
  EXPECT_EQ(a.stats.opens_redis.load(), 3u);
  EXPECT_EQ(a.stats.opens_local.load(), 0u);
  EXPECT_EQ(b.sessions.open_connections(), 3u);
}

TEST_F(RedisSessionStoreTest, TheIdsFirstConnectionOnANodeGetsTheSessionEvenWithOthersElsewhere) {
  RedisTestNode& a = StartNode("node-a");
  RedisTestNode& b = StartNode("node-b");
  EXPECT_EQ(Open(a, "alice").restore, Symbols{});
  a.sessions.AddSymbol("alice", "MSFT");
  a.sessions.AddSymbol("alice", "AAPL");
  a.sessions.AddSymbol("alice", "TSLA");
  a.sessions.RemoveSymbol("alice", "TSLA");
  a.sessions.AddSymbol("nobody", "IBM");  // No open connection: ignored.
  Settle(a);
  // A's node still holds a connection, yet B's first one gets the session
  // (A may be dead and not known so yet); B's second does not.
  EXPECT_EQ(Open(b, "alice").restore, (Symbols{"AAPL", "MSFT"}));
  EXPECT_EQ(Open(b, "alice").restore, Symbols{});
  EXPECT_EQ(Redis({"EXISTS", "obgw:{c:nobody}:symbols"}), "0");
  // Within the TTL after every connection closed, the next one gets it.
  a.sessions.Close("alice");
  b.sessions.Close("alice");
  b.sessions.Close("alice");
  Settle(a);
  Settle(b);
  EXPECT_EQ(Redis({"EXISTS", "obgw:{c:alice}:conns"}), "0");
  EXPECT_EQ(Open(a, "alice").restore, (Symbols{"AAPL", "MSFT"}));
}

TEST_F(RedisSessionStoreTest, ADeadNodesConnectionsStopCountingWhenItsLeaseExpires) {
  RedisTestNode& a = StartNode("node-a", 60s, 300ms);
  RedisTestNode& b = StartNode("node-b", 60s, 300ms);
  EXPECT_TRUE(Open(a, "alice").admitted);
  EXPECT_TRUE(Open(a, "alice").admitted);
  EXPECT_FALSE(Open(b, "alice").admitted);
  // A dies without closing: its lease is no longer renewed.
  OnIo([&] {
    a.registry.Stop();
    a.sessions.Stop();
  });
  ASSERT_TRUE(
      RunUntil([&] { return b.registry.dead_nodes() == std::vector<std::string>{"node-a"}; }, 2s));
  EXPECT_TRUE(Open(b, "alice").admitted);
  // The dead node's count is gone from the id's hash.
  EXPECT_EQ(Redis({"HEXISTS", "obgw:{c:alice}:conns", "node-a"}), "0");
}

TEST_F(RedisSessionStoreTest, KeysOfOpenSessionsAreRefreshedAndExpireOneTtlAfterTheLastClose) {
  RedisTestNode& a = StartNode("node-a", RedisSessionStore::kMinKeyTtl);
  EXPECT_TRUE(Open(a, "alice").admitted);
  a.sessions.AddSymbol("alice", "AAPL");
  Settle(a);
  // Twice the TTL later, the open session's keys are still there.
  const auto start = std::chrono::steady_clock::now();
  RunUntil([&] { return std::chrono::steady_clock::now() - start >= 2s; }, 3s);
  EXPECT_EQ(Redis({"SMEMBERS", "obgw:{c:alice}:symbols"}), "AAPL");
  a.sessions.Close("alice");
  Settle(a);
  std::int64_t ttl = std::stoll(Redis({"PTTL", "obgw:{c:alice}:symbols"}));
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, RedisSessionStore::kMinKeyTtl.count());
}

TEST_F(RedisSessionStoreTest, RedisDownAnswersFromTheMirrorAndResynchronisesWhenBack) {
  RedisTestNode& a = StartNode("node-a");
  EXPECT_TRUE(Open(a, "alice").admitted);
  a.sessions.AddSymbol("alice", "AAPL");
  a.sessions.AddSymbol("alice", "MSFT");
  Settle(a);
  server_->Kill();  // Every key is lost (no persistence).
  ASSERT_TRUE(RunUntil([&] { return !a.connection.up(); }));
  // Down: the limit is this node's, the restore what this node saw.
  EXPECT_TRUE(Open(a, "bob").admitted);
  a.sessions.AddSymbol("bob", "TSLA");
  a.sessions.RemoveSymbol("alice", "MSFT");
  EXPECT_TRUE(Open(a, "alice").admitted);
  EXPECT_FALSE(Open(a, "alice").admitted);
  EXPECT_EQ(a.stats.opens_local.load(), 3u);

  ASSERT_TRUE(server_->Restart());
  ASSERT_TRUE(RunUntil([&] { return a.connection.up(); }));
  Settle(a);
  EXPECT_EQ(a.stats.resyncs.load(), 1u);
  EXPECT_EQ(Redis({"HGET", "obgw:{c:alice}:conns", "node-a"}), "2");
  EXPECT_EQ(Redis({"SMEMBERS", "obgw:{c:alice}:symbols"}), "AAPL");
  EXPECT_EQ(Redis({"HGET", "obgw:{c:bob}:conns", "node-a"}), "1");
  EXPECT_EQ(Redis({"SMEMBERS", "obgw:{c:bob}:symbols"}), "TSLA");
  EXPECT_GT(std::stoll(Redis({"PTTL", "obgw:{c:bob}:conns"})), 0);
  // Answered by Redis again, which now knows both connections.
  RedisTestNode& b = StartNode("node-b");
  EXPECT_FALSE(Open(b, "alice").admitted);
  EXPECT_EQ(b.stats.opens_redis.load(), 1u);
}

TEST_F(RedisSessionStoreTest, BadDataInRedisIsCountedAndNeverRestored) {
  RedisTestNode& a = StartNode("node-a");
  ASSERT_EQ(Redis({"SADD", "obgw:{c:alice}:symbols", "AAPL", "not a symbol!", "MSFT"}), "3");
  ASSERT_EQ(Redis({"HSET", "obgw:{c:alice}:conns", "node-z", "garbage"}), "1");
  Opened opened = Open(a, "alice");
  EXPECT_TRUE(opened.admitted);
  EXPECT_EQ(opened.restore, (Symbols{"AAPL", "MSFT"}));
  EXPECT_EQ(a.stats.store_errors.load(), 1u);
  // A count that is no number: the script errors; the mirror answers.
  ASSERT_EQ(Redis({"HSET", "obgw:{c:bob}:conns", "node-a", "x"}), "1");
  EXPECT_TRUE(Open(a, "bob").admitted);
  EXPECT_EQ(a.stats.store_errors.load(), 2u);
  EXPECT_EQ(a.stats.opens_local.load(), 1u);
}

}  // namespace
}  // namespace obgw::gateway
