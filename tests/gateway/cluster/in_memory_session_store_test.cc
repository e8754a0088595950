#include "gateway/cluster/in_memory_session_store.h"

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

namespace obgw::gateway {
namespace {

using Symbols = SessionStore::Symbols;
using std::chrono::seconds;

class InMemorySessionStoreTest : public ::testing::Test {
 protected:
  static constexpr seconds kTtl{30};

  // Opens a connection of `client_id` and returns what the store answered,
  // once the caller's executor ran the answer.
  Symbols Open(const std::string& client_id) {
    std::optional<Symbols> answer;
    store_.Open(client_id, io_.get_executor(), [&](Symbols symbols) { answer = symbols; });
    // Posted, never run inside the call.
    EXPECT_FALSE(answer.has_value());
    io_.restart();
    io_.run();
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(Symbols{});
  }

  void Advance(std::chrono::steady_clock::duration by) { now_ += by; }

  std::chrono::steady_clock::time_point now_{};  // Simulated time.
  boost::asio::io_context io_;                   // The caller's shard.
  InMemorySessionStore store_{kTtl, [this] { return now_; }};
};

TEST_F(InMemorySessionStoreTest, NewClientHasNoSymbols) {
  EXPECT_EQ(Open("alice"), Symbols{});
  EXPECT_EQ(store_.size(), 1u);
}

TEST_F(InMemorySessionStoreTest, ReconnectWithinTheTtlGetsTheSymbolsBackSorted) {
  Open("alice");
  store_.AddSymbol("alice", "MSFT");
  store_.AddSymbol("alice", "AAPL");
  store_.AddSymbol("alice", "TSLA");
  store_.AddSymbol("alice", "AAPL");  // Once only.
  store_.RemoveSymbol("alice", "TSLA");
  store_.Close("alice");
  Advance(kTtl - seconds(1));
  EXPECT_EQ(Open("alice"), (Symbols{"AAPL", "MSFT"}));
}

TEST_F(InMemorySessionStoreTest, ClientIsForgottenOnceTheTtlRunsOut) {
  Open("alice");
  store_.AddSymbol("alice", "AAPL");
  store_.Close("alice");
  Advance(kTtl);
  EXPECT_EQ(store_.size(), 0u);         // Its memory is released...
  EXPECT_EQ(Open("alice"), Symbols{});  // ...and a new connection starts empty.
}

TEST_F(InMemorySessionStoreTest, OpenConnectionKeepsTheClientPastTheTtl) {
  Open("alice");
  Open("alice");  // A second tab.
  store_.AddSymbol("alice", "AAPL");
  store_.Close("alice");  // One tab closed; the other is still open.
  Advance(kTtl * 3);
  EXPECT_EQ(store_.size(), 1u);
  // The second connection sees what the first subscribed to.
  EXPECT_EQ(Open("alice"), Symbols{"AAPL"});
}

TEST_F(InMemorySessionStoreTest, TtlStartsWhenTheLastConnectionCloses) {
  Open("alice");
  Open("alice");
  store_.AddSymbol("alice", "AAPL");
  store_.Close("alice");
  Advance(kTtl - seconds(1));
  store_.Close("alice");  // The last one: the TTL starts now.
  Advance(kTtl - seconds(1));
  EXPECT_EQ(store_.size(), 1u);
  Advance(seconds(1));
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(InMemorySessionStoreTest, ReopenedClientIsNotExpiredByItsEarlierClose) {
  Open("alice");
  store_.AddSymbol("alice", "AAPL");
  store_.Close("alice");  // Would expire at kTtl...
  Advance(seconds(10));
  EXPECT_EQ(Open("alice"), Symbols{"AAPL"});
  store_.Close("alice");       // ...now at 10 s + kTtl.
  Advance(kTtl - seconds(5));  // Past the first expiry, before the second.
  EXPECT_EQ(Open("alice"), Symbols{"AAPL"});
}

TEST_F(InMemorySessionStoreTest, UpdatesWithoutAnOpenConnectionAreIgnored) {
  store_.AddSymbol("bob", "AAPL");  // Never opened.
  EXPECT_EQ(store_.size(), 0u);
  Open("alice");
  store_.AddSymbol("alice", "AAPL");
  store_.Close("alice");
  store_.AddSymbol("alice", "MSFT");  // Closed: within the TTL, but no connection.
  store_.RemoveSymbol("alice", "AAPL");
  store_.Close("alice");  // An extra close changes nothing either.
  Advance(kTtl - seconds(1));
  EXPECT_EQ(Open("alice"), Symbols{"AAPL"});
}

TEST_F(InMemorySessionStoreTest, ClientsAreKeptApart) {
  Open("alice");
  Open("bob");
  store_.AddSymbol("alice", "AAPL");
  store_.AddSymbol("bob", "MSFT");
  store_.Close("alice");
  Advance(kTtl);
  EXPECT_EQ(Open("bob"), Symbols{"MSFT"});
  EXPECT_EQ(Open("alice"), Symbols{});
}

TEST_F(InMemorySessionStoreTest, AnswerRunsOnTheCallersExecutor) {
  boost::asio::io_context shard;
  std::thread::id answered_on;
  store_.Open("alice", shard.get_executor(),
              [&](Symbols) { answered_on = std::this_thread::get_id(); });
  std::thread shard_thread([&] { shard.run(); });
  std::thread::id shard_id = shard_thread.get_id();
  shard_thread.join();
  EXPECT_EQ(answered_on, shard_id);
}

TEST_F(InMemorySessionStoreTest, ShardsMayCallAtOnce) {
  constexpr int kThreads = 4;
  constexpr int kSymbolsEach = 200;
  std::vector<std::thread> shards;
  for (int t = 0; t < kThreads; ++t) {
    shards.emplace_back([this, t] {
      std::string client = "client" + std::to_string(t);
      boost::asio::io_context io;
      store_.Open(client, io.get_executor(), [](Symbols) {});
      for (int i = 0; i < kSymbolsEach; ++i) {
        store_.AddSymbol(client, "S" + std::to_string(i));
        store_.AddSymbol("shared", "S" + std::to_string(i));  // Not open: ignored.
      }
      io.run();
    });
  }
  for (std::thread& shard : shards) shard.join();
  EXPECT_EQ(store_.size(), static_cast<std::size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(Open("client" + std::to_string(t)).size(), static_cast<std::size_t>(kSymbolsEach));
  }
}

}  // namespace
}  // namespace obgw::gateway
