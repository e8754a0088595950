#include "gateway/fanout/update_queue.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

namespace obgw::gateway {
namespace {

using std::chrono::microseconds;

BookUpdate Book(std::string symbol, std::string data = "{}") {
  BookUpdate update;
  update.symbol = std::move(symbol);
  update.data = std::move(data);
  return update;
}

// Pops everything currently queued (the hub's side).
std::vector<HubMessage> PopAll(UpdateQueue& queue) {
  std::vector<HubMessage> all;
  std::vector<HubMessage> batch(64);
  while (std::size_t n = queue.PopBulk(batch.data(), batch.size(), microseconds(0))) {
    for (std::size_t i = 0; i < n; ++i) all.push_back(std::move(batch[i]));
    queue.AfterPop();
  }
  return all;
}

TEST(UpdateQueueTest, ZeroHighWaterIsTreatedAsOne) {
  UpdateQueue queue(0);
  EXPECT_EQ(queue.high_water(), 1u);
}

TEST(UpdateQueueTest, DeliversUpdatesAndControlInOrderOfOneToken) {
  UpdateQueue queue(100);
  auto token = queue.MakeToken();
  queue.PushUpdate(token, Book("A", R"({"n":1})"));
  SubscriptionChange change;
  change.shard = 3;
  change.symbol = "A";
  change.delta = 1;
  queue.PushControl(token, change);
  BookUpdate second = Book("A", R"({"n":2})");
  ASSERT_TRUE(queue.TryPushUpdate(token, second));
  EXPECT_EQ(queue.Depth(), 3u);

  std::vector<HubMessage> all = PopAll(queue);
  ASSERT_EQ(all.size(), 3u);
  ASSERT_TRUE(std::holds_alternative<BookUpdate>(all[0]));
  EXPECT_EQ(std::get<BookUpdate>(all[0]).data, R"({"n":1})");
  ASSERT_TRUE(std::holds_alternative<SubscriptionChange>(all[1]));
  EXPECT_EQ(std::get<SubscriptionChange>(all[1]).shard, 3u);
  EXPECT_EQ(std::get<SubscriptionChange>(all[1]).delta, 1);
  ASSERT_TRUE(std::holds_alternative<BookUpdate>(all[2]));
  EXPECT_EQ(std::get<BookUpdate>(all[2]).data, R"({"n":2})");
  EXPECT_EQ(queue.Depth(), 0u);
}

// Every book gets the next ticket whichever producer queues it and however
// (one, bulk, try); a change carries the number of books queued before it.
TEST(UpdateQueueTest, TicketsCountBooksOverProducersAndChangesCarryTheCount) {
  UpdateQueue queue(100);
  auto first = queue.MakeToken();
  auto second = queue.MakeToken();
  queue.PushUpdate(first, Book("A"));  // 0
  queue.PushControl(second, SubscriptionChange{});
  std::vector<HubMessage> bulk;
  bulk.emplace_back(Book("B"));  // 1
  bulk.emplace_back(SubscriptionChange{});
  bulk.emplace_back(Book("C"));  // 2
  queue.PushUpdates(second, bulk);
  BookUpdate refused_later = Book("D");
  ASSERT_TRUE(queue.TryPushUpdate(first, refused_later));  // 3
  queue.PushControl(first, SubscriptionChange{});

  std::vector<std::uint64_t> tickets;
  std::vector<std::uint64_t> books_before;
  std::vector<std::string> books;
  for (HubMessage& message : PopAll(queue)) {
    if (auto* update = std::get_if<BookUpdate>(&message)) {
      books.push_back(update->symbol + std::to_string(update->ticket));
    } else {
      books_before.push_back(std::get<SubscriptionChange>(message).books_before);
    }
  }
  std::sort(books.begin(), books.end());
  EXPECT_EQ(books, (std::vector<std::string>{"A0", "B1", "C2", "D3"}));
  std::sort(books_before.begin(), books_before.end());
  EXPECT_EQ(books_before, (std::vector<std::uint64_t>{1, 2, 4}));
}

TEST(UpdateQueueTest, PopBulkTimesOutWhenEmpty) {
  UpdateQueue queue(10);
  HubMessage out[4];
  EXPECT_EQ(queue.PopBulk(out, 4, microseconds(1000)), 0u);
}

TEST(UpdateQueueTest, PerTokenFifoWithTwoProducerThreads) {
  constexpr int kPerProducer = 20000;
  UpdateQueue queue(1'000'000);  // Never pauses: this test is about order only.
  auto producer = [&queue](const std::string& symbol) {
    auto token = queue.MakeToken();
    for (int i = 0; i < kPerProducer; ++i) queue.PushUpdate(token, Book(symbol, std::to_string(i)));
  };
  std::thread a(producer, "A");
  std::thread b(producer, "B");

  // Consume concurrently with the producers, as the hub does.
  int next_a = 0;
  int next_b = 0;
  int out_of_order = 0;
  std::vector<HubMessage> batch(256);
  // A bound for a broken queue, not a speed goal: under TSan on a loaded
  // machine 40,000 books took longer than 10 s once.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while ((next_a < kPerProducer || next_b < kPerProducer) &&
         std::chrono::steady_clock::now() < deadline) {
    std::size_t n = queue.PopBulk(batch.data(), batch.size(), microseconds(10000));
    for (std::size_t i = 0; i < n; ++i) {
      auto& update = std::get<BookUpdate>(batch[i]);
      int& next = update.symbol == "A" ? next_a : next_b;
      // No ASSERT here: returning early would leave the producers joinable.
      if (update.data != std::to_string(next)) ++out_of_order;
      ++next;
    }
    queue.AfterPop();
  }
  a.join();
  b.join();
  EXPECT_EQ(out_of_order, 0);
  EXPECT_EQ(next_a, kPerProducer);
  EXPECT_EQ(next_b, kPerProducer);
  EXPECT_EQ(queue.Depth(), 0u);
}

TEST(UpdateQueueTest, TryPushRefusesAtHighWaterAndKeepsTheUpdate) {
  UpdateQueue queue(4);
  auto token = queue.MakeToken();
  for (int i = 0; i < 4; ++i) {
    BookUpdate update = Book("A", std::to_string(i));
    ASSERT_TRUE(queue.TryPushUpdate(token, update)) << i;
  }
  EXPECT_EQ(queue.Depth(), 4u);

  bool routed = false;
  BookUpdate refused = Book("BRK.B", R"({"bids":[[1,2,3]]})");
  refused.received_ns = 123;
  refused.on_routed = [&routed](std::size_t) { routed = true; };
  EXPECT_FALSE(queue.TryPushUpdate(token, refused));
  EXPECT_EQ(queue.Depth(), 4u);
  // Untouched: the caller can retry or answer 503 with it.
  EXPECT_EQ(refused.symbol, "BRK.B");
  EXPECT_EQ(refused.data, R"({"bids":[[1,2,3]]})");
  EXPECT_EQ(refused.received_ns, 123);
  ASSERT_TRUE(refused.on_routed);
  refused.on_routed(0);
  EXPECT_TRUE(routed);

  // Once drained, the same update is accepted.
  PopAll(queue);
  EXPECT_TRUE(queue.TryPushUpdate(token, refused));
  std::vector<HubMessage> all = PopAll(queue);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(std::get<BookUpdate>(all[0]).symbol, "BRK.B");
}

TEST(UpdateQueueTest, PushUpdateAcceptsButSignalsPauseAtHighWater) {
  UpdateQueue queue(3);
  auto token = queue.MakeToken();
  EXPECT_FALSE(queue.PushUpdate(token, Book("A")));  // depth 1
  EXPECT_FALSE(queue.PushUpdate(token, Book("A")));  // depth 2
  EXPECT_TRUE(queue.PushUpdate(token, Book("A")));   // depth 3 == high water
  EXPECT_TRUE(queue.PushUpdate(token, Book("A")));   // over: still enqueued
  EXPECT_EQ(queue.Depth(), 4u);
  EXPECT_EQ(PopAll(queue).size(), 4u);
}

TEST(UpdateQueueTest, ControlIsNeverRefused) {
  UpdateQueue queue(2);
  auto token = queue.MakeToken();
  queue.PushUpdate(token, Book("A"));
  queue.PushUpdate(token, Book("A"));
  SubscriptionChange change;
  change.symbol = "A";
  change.delta = 1;
  queue.PushControl(token, change);
  queue.PushControl(token, change);
  EXPECT_EQ(queue.Depth(), 4u);
}

TEST(UpdateQueueTest, WhenDrainedRunsAtOnceBelowLowWater) {
  UpdateQueue queue(10);  // Low water 5.
  auto token = queue.MakeToken();
  for (int i = 0; i < 4; ++i) queue.PushUpdate(token, Book("A"));
  int resumed = 0;
  queue.WhenDrained([&resumed] { ++resumed; });
  EXPECT_EQ(resumed, 1);
  queue.AfterPop();
  EXPECT_EQ(resumed, 1);  // Not run a second time.
}

TEST(UpdateQueueTest, WhenDrainedWaitsUntilPoppedBelowLowWater) {
  UpdateQueue queue(10);  // Low water 5.
  auto token = queue.MakeToken();
  bool paused = false;
  for (int i = 0; i < 10; ++i) paused = queue.PushUpdate(token, Book("A"));
  ASSERT_TRUE(paused);

  int resumed = 0;
  queue.WhenDrained([&resumed] { ++resumed; });
  queue.WhenDrained([&resumed] { ++resumed; });
  EXPECT_EQ(resumed, 0);

  HubMessage out[10];
  // AfterPop without a pop changes nothing.
  queue.AfterPop();
  EXPECT_EQ(resumed, 0);
  // 10 -> 7 -> 5: still at low water, no resume.
  ASSERT_EQ(queue.PopBulk(out, 3, microseconds(0)), 3u);
  queue.AfterPop();
  EXPECT_EQ(resumed, 0);
  ASSERT_EQ(queue.PopBulk(out, 2, microseconds(0)), 2u);
  ASSERT_EQ(queue.Depth(), 5u);
  queue.AfterPop();
  EXPECT_EQ(resumed, 0);
  // 5 -> 4: below low water, every waiter resumes exactly once.
  ASSERT_EQ(queue.PopBulk(out, 1, microseconds(0)), 1u);
  EXPECT_EQ(resumed, 0);  // Only AfterPop resumes.
  queue.AfterPop();
  EXPECT_EQ(resumed, 2);
  queue.AfterPop();
  ASSERT_EQ(queue.PopBulk(out, 10, microseconds(0)), 4u);
  queue.AfterPop();
  EXPECT_EQ(resumed, 2);
}

TEST(UpdateQueueTest, WhenDrainedFromAnotherThreadIsResumedByTheHub) {
  UpdateQueue queue(8);
  auto token = queue.MakeToken();
  for (int i = 0; i < 8; ++i) queue.PushUpdate(token, Book("A"));
  std::atomic<int> resumed{0};
  std::thread producer([&] { queue.WhenDrained([&resumed] { resumed.fetch_add(1); }); });
  producer.join();
  EXPECT_EQ(resumed.load(), 0);
  PopAll(queue);
  EXPECT_EQ(resumed.load(), 1);
}

}  // namespace
}  // namespace obgw::gateway
