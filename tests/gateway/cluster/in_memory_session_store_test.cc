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

using Opened = SessionStore::Opened;
using Symbols = SessionStore::Symbols;
using std::chrono::seconds;

class InMemorySessionStoreTest : public ::testing::Test {
 protected:
  static constexpr seconds kTtl{30};
  static constexpr std::size_t kLimit = 3;

  // Opens a connection of `client_id` and returns what the store answered,
  // once the caller's executor ran the answer.
  Opened OpenConnection(const std::string& client_id) {
    std::optional<Opened> answer;
    store_.Open(client_id, io_.get_executor(), [&](Opened opened) { answer = opened; });
    // Posted, never run inside the call.
    EXPECT_FALSE(answer.has_value());
    io_.restart();
    io_.run();
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(Opened{});
  }
  // The symbols an admitted connection gets back.
  Symbols Open(const std::string& client_id) {
    Opened opened = OpenConnection(client_id);
    EXPECT_TRUE(opened.admitted) << client_id;
    return opened.restore;
  }

  void Advance(std::chrono::steady_clock::duration by) { now_ += by; }

  std::chrono::steady_clock::time_point now_{};  // Simulated time.
  boost::asio::io_context io_;                   // The caller's shard.
  InMemorySessionStore store_{kTtl, kLimit, [this] { return now_; }};
};

TEST_F(InMemorySessionStoreTest, NewClientHasNoSymbols) {
  EXPECT_EQ(Open("alice"), Symbols{});
  EXPECT_EQ(store_.size(), 1u);
  EXPECT_EQ(store_.connections("alice"), 1u);
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

TEST_F(InMemorySessionStoreTest, OnlyTheIdsOnlyConnectionGetsTheSymbols) {
  Open("alice");
  store_.AddSymbol("alice", "AAPL");
  // A second tab: its sibling already follows AAPL.
  EXPECT_EQ(Open("alice"), Symbols{});
  store_.AddSymbol("alice", "MSFT");  // Any connection adds to the id's session...
  store_.Close("alice");
  store_.Close("alice");
  EXPECT_EQ(Open("alice"), (Symbols{"AAPL", "MSFT"}));
  store_.RemoveSymbol("alice", "AAPL");  // ...and any removes.
  store_.Close("alice");
  EXPECT_EQ(Open("alice"), Symbols{"MSFT"});
}

TEST_F(InMemorySessionStoreTest, OpenConnectionKeepsTheClientPastTheTtl) {
  Open("alice");
  Open("alice");  // A second tab.
  store_.AddSymbol("alice", "AAPL");
  store_.Close("alice");  // One tab closed; the other is still open.
  Advance(kTtl * 3);
  EXPECT_EQ(store_.size(), 1u);
  store_.Close("alice");
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
  store_.Close("bob");
  Advance(kTtl - seconds(1));
  store_.Close("alice");  // No effect: alice has no connection.
  EXPECT_EQ(Open("bob"), Symbols{"MSFT"});
  Advance(seconds(1));
  EXPECT_EQ(Open("alice"), Symbols{});
}

TEST_F(InMemorySessionStoreTest, ConnectionsOverThePerClientLimitAreRefusedAndNotCounted) {
  for (std::size_t i = 0; i < kLimit; ++i) EXPECT_TRUE(OpenConnection("alice").admitted);
  store_.AddSymbol("alice", "AAPL");
  Opened refused = OpenConnection("alice");
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.restore, Symbols{});
  EXPECT_FALSE(OpenConnection("alice").admitted);
  EXPECT_EQ(store_.connections("alice"), kLimit);
  // Another id has its own budget.
  EXPECT_TRUE(OpenConnection("bob").admitted);
  // One close frees one slot, exactly.
  store_.Close("alice");
  EXPECT_TRUE(OpenConnection("alice").admitted);
  EXPECT_FALSE(OpenConnection("alice").admitted);
  // All closed: within the TTL the next one is admitted with the session.
  for (std::size_t i = 0; i < kLimit; ++i) store_.Close("alice");
  EXPECT_EQ(store_.connections("alice"), 0u);
  EXPECT_EQ(Open("alice"), Symbols{"AAPL"});
}

TEST_F(InMemorySessionStoreTest, ALimitOfZeroRefusesEveryoneAndKeepsNothing) {
  InMemorySessionStore closed_store(kTtl, 0, [this] { return now_; });
  std::optional<Opened> answer;
  closed_store.Open("alice", io_.get_executor(), [&](Opened opened) { answer = opened; });
  io_.run();
  ASSERT_TRUE(answer.has_value());
  EXPECT_FALSE(answer->admitted);
  EXPECT_EQ(closed_store.size(), 0u);
}

TEST_F(InMemorySessionStoreTest, FindAndOpenClientsShowWhatIsHeld) {
  EXPECT_FALSE(store_.Find("alice").has_value());
  Open("alice");
  Open("alice");
  Open("bob");
  store_.AddSymbol("alice", "MSFT");
  store_.AddSymbol("alice", "AAPL");
  store_.Close("bob");
  std::optional<InMemorySessionStore::ClientState> alice = store_.Find("alice");
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->connections, 2u);
  EXPECT_EQ(alice->symbols, (Symbols{"AAPL", "MSFT"}));
  ASSERT_TRUE(store_.Find("bob").has_value());  // Closed, within the TTL.
  EXPECT_EQ(store_.Find("bob")->connections, 0u);
  EXPECT_EQ(store_.OpenClients(), std::vector<std::string>{"alice"});
}

TEST_F(InMemorySessionStoreTest, AnswerRunsOnTheCallersExecutor) {
  boost::asio::io_context shard;
  std::thread::id answered_on;
  store_.Open("alice", shard.get_executor(),
              [&](Opened) { answered_on = std::this_thread::get_id(); });
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
      store_.Open(client, io.get_executor(), [](Opened) {});
      for (int i = 0; i < kSymbolsEach; ++i) {
        store_.AddSymbol(client, "S" + std::to_string(i));
        store_.AddSymbol("shared", "S" + std::to_string(i));  // Not open: ignored.
      }
      io.run();
      store_.Close(client);
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
