#include "gateway/fanout/hub.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "gateway/cluster/in_process_broker.h"

namespace obgw::gateway {
namespace {

using std::chrono::microseconds;

struct Parsed {
  std::string symbol;
  std::uint64_t seq = 0;
  boost::json::value data;
};

Parsed Parse(const FramePtr& frame) {
  boost::json::value message = boost::json::parse(frame->payload());
  const boost::json::object& object = message.as_object();
  Parsed parsed;
  parsed.symbol = std::string(object.at("symbol").as_string());
  parsed.seq = object.at("seq").to_number<std::uint64_t>();
  parsed.data = object.at("data");
  return parsed;
}

// "A#3": symbol and seq of a rendered frame.
std::string Describe(const FramePtr& frame) {
  Parsed parsed = Parse(frame);
  return parsed.symbol + "#" + std::to_string(parsed.seq);
}

// The hub's Broker: orders books as a single node does (InProcessBroker),
// or, with `to_cluster`, takes them away as a cluster broker does (they come
// back sequenced through the queue); records what the hub tells it.
class RecordingBroker : public Broker {
 public:
  explicit RecordingBroker(std::uint64_t epoch) : in_process_(epoch) {}

  bool Sequence(BookUpdate& update, StreamPosition last) override {
    ++sequenced;
    if (!to_cluster) return in_process_.Sequence(update, last);
    taken.push_back(std::move(update));
    return false;
  }
  void Follow(const std::string& symbol) override { follows.push_back("+" + symbol); }
  void Unfollow(const std::string& symbol) override { follows.push_back("-" + symbol); }
  std::uint64_t epoch() const override { return in_process_.epoch(); }

  bool to_cluster = false;
  std::size_t sequenced = 0;         // Sequence calls.
  std::vector<BookUpdate> taken;     // While to_cluster.
  std::vector<std::string> follows;  // "+A" Follow("A"), "-A" Unfollow("A").

 private:
  InProcessBroker in_process_;
};

class HubTest : public ::testing::Test {
 protected:
  static constexpr std::uint32_t kShards = 3;
  static constexpr std::uint64_t kEpoch = 1700000000123456;

  struct Dispatched {
    std::uint32_t shard;
    std::vector<FramePtr> frames;
  };

  HubTest()
      : token_(queue_.MakeToken()),
        broker_(kEpoch),
        hub_(
            queue_, kShards, broker_,
            [this](std::uint32_t shard, std::vector<FramePtr> frames, std::size_t deliveries) {
              std::string event = "dispatch " + std::to_string(shard) + ":";
              for (const FramePtr& frame : frames) event += " " + Describe(frame);
              events_.push_back(event);
              dispatched_.push_back({shard, std::move(frames)});
              if (!stall_shards_) hub_.BatchDelivered(shard, deliveries);
              held_ += stall_shards_ ? deliveries : 0;
            },
            stats_, &counts_) {}

  // Queues a book; its on_routed records the subscriber count in routed_.
  void PushBook(const std::string& symbol, std::string data = R"({"bids":[],"asks":[]})") {
    BookUpdate update;
    update.symbol = symbol;
    update.data = std::move(data);
    update.on_routed = [this, symbol](std::size_t subscribers) {
      routed_.push_back(subscribers);
      events_.push_back("routed " + symbol + " " + std::to_string(subscribers));
    };
    queue_.PushUpdate(token_, std::move(update));
  }

  void PushChange(std::uint32_t shard, const std::string& symbol, int delta) {
    PushChangeWith(token_, shard, symbol, delta);
  }

  void PushChangeWith(UpdateQueue::Token& token, std::uint32_t shard, const std::string& symbol,
                      int delta) {
    SubscriptionChange change;
    change.shard = shard;
    change.symbol = symbol;
    change.delta = delta;
    change.on_applied = [this, shard, symbol, delta](FramePtr snapshot) {
      events_.push_back("applied " + std::to_string(shard) + " " + symbol + " " +
                        std::to_string(delta) +
                        (snapshot ? " snapshot " + Describe(snapshot) : ""));
      snapshots_.push_back(std::move(snapshot));
    };
    queue_.PushControl(token, std::move(change));
  }

  // Processes everything queued so far (one RunOnce per bulk dequeue).
  std::size_t Run() {
    std::size_t total = 0;
    while (std::size_t n = hub_.RunOnce(microseconds(0))) total += n;
    return total;
  }

  // 64 subscribers of "A" on shard 0, which then stops reporting delivered
  // batches and gets books of "A" until it is kMaxDeliveriesInFlight behind.
  void BacklogShardZeroWithSymbolA() {
    for (int i = 0; i < 64; ++i) PushChange(0, "A", +1);
    Run();
    stall_shards_ = true;
    for (std::size_t i = 0; i <= Hub::kMaxDeliveriesInFlight / 64; ++i) {
      PushBook("A");
      hub_.RunOnce(microseconds(0));
    }
  }

  // Frames dispatched to `shard`, in order.
  std::vector<FramePtr> FramesFor(std::uint32_t shard) const {
    std::vector<FramePtr> frames;
    for (const Dispatched& d : dispatched_) {
      if (d.shard == shard) frames.insert(frames.end(), d.frames.begin(), d.frames.end());
    }
    return frames;
  }

  UpdateQueue queue_{1000};
  UpdateQueue::Token token_;
  HubStats stats_;
  SubscriberCounts counts_;
  std::vector<Dispatched> dispatched_;
  bool stall_shards_ = false;  // Shards never report a delivered batch.
  std::size_t held_ = 0;       // Deliveries not reported while stalled.
  std::vector<std::size_t> routed_;
  std::vector<std::string> events_;
  std::vector<FramePtr> snapshots_;  // What each on_applied got, in order.
  RecordingBroker broker_;
  Hub hub_;
};

TEST_F(HubTest, RunOnceWithNothingQueuedReturnsZero) {
  EXPECT_EQ(hub_.RunOnce(microseconds(0)), 0u);
  EXPECT_TRUE(dispatched_.empty());
  EXPECT_EQ(stats_.batches.load(), 0u);
}

TEST_F(HubTest, UpdateWithoutSubscribersGoesNowhere) {
  PushBook("AAPL");
  EXPECT_EQ(Run(), 1u);
  EXPECT_TRUE(dispatched_.empty());
  EXPECT_EQ(routed_, std::vector<std::size_t>{0});
  EXPECT_EQ(stats_.updates_routed.load(), 1u);
  EXPECT_EQ(stats_.symbols.load(), 0u);
}

TEST_F(HubTest, SubscribedShardReceivesTheRenderedUpdate) {
  PushChange(1, "AAPL", +1);
  Run();
  EXPECT_EQ(events_, std::vector<std::string>{"applied 1 AAPL 1"});
  EXPECT_EQ(stats_.symbols.load(), 1u);

  PushBook("AAPL", R"({"bids":[[1.5,2,3]],"asks":[]})");
  PushBook("MSFT");  // Nobody follows MSFT.
  Run();
  ASSERT_EQ(dispatched_.size(), 1u);
  EXPECT_EQ(dispatched_[0].shard, 1u);
  ASSERT_EQ(dispatched_[0].frames.size(), 1u);
  const FramePtr& frame = dispatched_[0].frames[0];
  EXPECT_EQ(frame->symbol(), "AAPL");
  Parsed parsed = Parse(frame);
  EXPECT_EQ(parsed.symbol, "AAPL");
  EXPECT_EQ(parsed.seq, 1u);
  EXPECT_EQ(parsed.data, boost::json::parse(R"({"bids":[[1.5,2,3]],"asks":[]})"));
  boost::json::value message = boost::json::parse(frame->payload());
  EXPECT_EQ(message.at("type").as_string(), "orderbook_update");
  EXPECT_EQ(message.at("timestamp").as_string().size(), 32u);
  EXPECT_EQ(routed_, (std::vector<std::size_t>{1, 0}));
}

TEST_F(HubTest, ShardsShareOneRenderedFrame) {
  PushChange(0, "AAPL", +1);
  PushChange(2, "AAPL", +1);
  PushChange(2, "AAPL", +1);  // Two sessions on shard 2: still one hand-off.
  PushBook("AAPL");
  Run();
  ASSERT_EQ(dispatched_.size(), 2u);
  EXPECT_EQ(dispatched_[0].shard, 0u);
  EXPECT_EQ(dispatched_[1].shard, 2u);
  ASSERT_EQ(dispatched_[0].frames.size(), 1u);
  ASSERT_EQ(dispatched_[1].frames.size(), 1u);
  // Rendered once: the very same object goes to both shards.
  EXPECT_EQ(dispatched_[0].frames[0].get(), dispatched_[1].frames[0].get());
  EXPECT_TRUE(FramesFor(1).empty());
  EXPECT_EQ(routed_, std::vector<std::size_t>{3});  // Subscribers, not shards.
}

TEST_F(HubTest, OneHandOffPerShardPerBatch) {
  PushChange(0, "A", +1);
  PushChange(0, "B", +1);
  Run();
  for (int i = 0; i < 10; ++i) {
    PushBook("A");
    PushBook("B");
  }
  EXPECT_EQ(Run(), 20u);
  ASSERT_EQ(dispatched_.size(), 1u);
  EXPECT_EQ(dispatched_[0].frames.size(), 20u);
}

TEST_F(HubTest, SeqIncrementsPerSymbolIndependently) {
  PushChange(0, "A", +1);
  PushChange(0, "B", +1);
  PushBook("A");
  PushBook("A");
  PushBook("B");
  PushBook("A");
  Run();
  PushBook("B");  // A later batch continues the sequence.
  PushBook("A");
  Run();
  std::vector<std::string> seen;
  for (const FramePtr& frame : FramesFor(0)) seen.push_back(Describe(frame));
  EXPECT_EQ(seen, (std::vector<std::string>{"A#1", "A#2", "B#1", "A#3", "B#2", "A#4"}));
}

TEST_F(HubTest, SeqAdvancesEvenWithoutSubscribers) {
  // seq counts books per symbol, not deliveries: a client joining later
  // sees the symbol's current sequence.
  PushBook("A");
  PushBook("A");
  PushChange(0, "A", +1);
  PushBook("A");
  Run();
  std::vector<FramePtr> frames = FramesFor(0);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(Parse(frames[0]).seq, 3u);
}

TEST_F(HubTest, SubscriptionInTheMiddleOfABatch) {
  PushChange(0, "A", +1);
  Run();
  events_.clear();

  // One batch: a book, a new subscriber on shard 1, another book.
  PushBook("A");
  PushChange(1, "A", +1);
  PushBook("A");
  EXPECT_EQ(Run(), 3u);
  EXPECT_EQ(stats_.batches.load(), 2u);
  EXPECT_EQ(events_, (std::vector<std::string>{
                         "routed A 1",
                         // Books routed before the change leave first ...
                         "dispatch 0: A#1",
                         // ... then the change counts and is confirmed, with
                         // the last book as the snapshot ...
                         "applied 1 A 1 snapshot A#1",
                         // ... and later books reach the new subscriber.
                         "routed A 2",
                         "dispatch 0: A#2",
                         "dispatch 1: A#2",
                     }));
}

TEST_F(HubTest, UnsubscribeRemovesTheShard) {
  PushChange(0, "A", +1);
  PushChange(1, "A", +1);
  Run();
  EXPECT_EQ(stats_.symbols.load(), 1u);
  PushChange(0, "A", -1);
  PushBook("A");
  Run();
  EXPECT_TRUE(FramesFor(0).empty());
  EXPECT_EQ(FramesFor(1).size(), 1u);
  EXPECT_EQ(routed_, std::vector<std::size_t>{1});
  EXPECT_EQ(stats_.symbols.load(), 1u);

  PushChange(1, "A", -1);
  PushBook("A");
  Run();
  EXPECT_EQ(FramesFor(1).size(), 1u);  // Nothing new.
  EXPECT_EQ(routed_, (std::vector<std::size_t>{1, 0}));
  EXPECT_EQ(stats_.symbols.load(), 0u);
}

TEST_F(HubTest, UnsubscribeInTheMiddleOfABatch) {
  PushChange(0, "A", +1);
  Run();
  events_.clear();
  PushBook("A");
  PushChange(0, "A", -1);
  PushBook("A");
  Run();
  EXPECT_EQ(events_, (std::vector<std::string>{"routed A 1", "dispatch 0: A#1", "applied 0 A -1",
                                               "routed A 0"}));
}

TEST_F(HubTest, CountsSubscribersPerShard) {
  PushChange(0, "A", +1);
  PushChange(0, "A", +1);
  PushChange(0, "A", -1);  // One session on shard 0 remains.
  PushBook("A");
  Run();
  EXPECT_EQ(FramesFor(0).size(), 1u);
  EXPECT_EQ(routed_, std::vector<std::size_t>{1});
  EXPECT_EQ(stats_.symbols.load(), 1u);
}

TEST_F(HubTest, ExtraUnsubscribeDoesNotUnderflow) {
  PushChange(1, "A", -1);  // Never subscribed.
  PushChange(0, "A", +1);
  PushChange(0, "A", -1);
  PushChange(0, "A", -1);  // One too many.
  PushChange(0, "A", +1);
  PushBook("A");
  Run();
  EXPECT_EQ(FramesFor(0).size(), 1u);
  EXPECT_TRUE(FramesFor(1).empty());
  EXPECT_EQ(routed_, std::vector<std::size_t>{1});
  EXPECT_EQ(stats_.symbols.load(), 1u);
}

TEST_F(HubTest, ZeroDeltaChangesNothingButIsAnswered) {
  PushChange(0, "A", 0);
  PushBook("A");
  Run();
  EXPECT_TRUE(dispatched_.empty());
  EXPECT_EQ(stats_.symbols.load(), 0u);

  PushChange(1, "A", +1);
  PushChange(1, "A", 0);
  PushBook("A");
  Run();
  EXPECT_EQ(FramesFor(1).size(), 1u);
  EXPECT_EQ(stats_.symbols.load(), 1u);
  EXPECT_EQ(routed_, (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(std::count(events_.begin(), events_.end(), "applied 0 A 0"), 1);
  EXPECT_EQ(std::count(events_.begin(), events_.end(), "applied 1 A 0"), 1);
}

TEST_F(HubTest, EmptyOnAppliedIsAllowed) {
  SubscriptionChange change;
  change.shard = 0;
  change.symbol = "A";
  change.delta = 1;
  queue_.PushControl(token_, std::move(change));
  PushBook("A");
  Run();
  EXPECT_EQ(FramesFor(0).size(), 1u);
}

TEST_F(HubTest, SymbolsGaugeCountsSymbolsWithSubscribers) {
  PushChange(0, "A", +1);
  PushChange(1, "A", +1);  // Same symbol on another shard: still one symbol.
  PushChange(2, "B", +1);
  PushChange(0, "C", 0);
  Run();
  EXPECT_EQ(stats_.symbols.load(), 2u);
  PushChange(0, "A", -1);
  Run();
  EXPECT_EQ(stats_.symbols.load(), 2u);
  PushChange(1, "A", -1);
  Run();
  EXPECT_EQ(stats_.symbols.load(), 1u);
  PushChange(2, "B", -1);
  PushChange(2, "B", -1);
  Run();
  EXPECT_EQ(stats_.symbols.load(), 0u);
  PushChange(2, "B", +1);
  Run();
  EXPECT_EQ(stats_.symbols.load(), 1u);
}

// The REST shim answers from these counts: a subscription confirmed (its
// on_applied ran) must already be in them, over every shard.
TEST_F(HubTest, PublishesEachSymbolsCountBeforeConfirmingTheChange) {
  std::vector<std::uint32_t> seen;
  auto change = [&](std::uint32_t shard, const std::string& symbol, int delta) {
    SubscriptionChange c;
    c.shard = shard;
    c.symbol = symbol;
    c.delta = delta;
    c.on_applied = [&, symbol](FramePtr) { seen.push_back(counts_.Get(symbol)); };
    queue_.PushControl(token_, std::move(c));
  };
  change(0, "A", +1);
  change(2, "A", +1);
  change(1, "B", +1);
  change(0, "A", 0);
  change(0, "A", -1);
  change(0, "A", -1);  // Not subscribed on shard 0 any more: unchanged.
  Run();
  EXPECT_EQ(seen, (std::vector<std::uint32_t>{1, 2, 1, 2, 1, 1}));
  EXPECT_EQ(counts_.Get("A"), 1u);
  EXPECT_EQ(counts_.Get("B"), 1u);
  EXPECT_EQ(counts_.Get("C"), 0u);
  change(2, "A", -1);
  Run();
  EXPECT_EQ(counts_.Get("A"), 0u);
  // Books do not change the counts.
  PushBook("B");
  Run();
  EXPECT_EQ(counts_.Get("B"), 1u);
}

// The queue orders messages per producer only. A REST publish is answered
// once its book is queued (shard X's token); a client that subscribes after
// that answer through shard Y's token may reach the hub first. The change
// waits until the book is routed, so the snapshot is that book, not the one
// before it.
TEST_F(HubTest, ChangeWaitsForTheBooksEnqueuedBeforeItByOtherProducers) {
  PushBook("A", R"({"n":1})");
  Run();
  UpdateQueue::Token other = queue_.MakeToken();
  PushBook("A", R"({"n":2})");        // Answered at enqueue (token_)...
  PushChangeWith(other, 1, "A", +1);  // ...then a subscribe on another shard.
  PushChangeWith(other, 1, "A", 0);   // Behind it on its token: stays behind.
  PushChangeWith(other, 1, "A", -1);
  PushChangeWith(other, 1, "A", +1);

  // The precondition that makes this test meaningful: moodycamel hands out
  // the newest producer's messages first, so the changes come out ahead of
  // the book. Checked on a scratch queue with the same pushes.
  {
    UpdateQueue scratch(10);
    UpdateQueue::Token first = scratch.MakeToken();
    UpdateQueue::Token second = scratch.MakeToken();
    scratch.PushUpdate(first, BookUpdate{});
    scratch.PushControl(second, SubscriptionChange{});
    std::vector<HubMessage> out(4);
    ASSERT_EQ(scratch.PopBulk(out.data(), out.size(), microseconds(0)), 2u);
    ASSERT_TRUE(std::holds_alternative<SubscriptionChange>(out[0]))
        << "the queue no longer lets another producer's change overtake a book";
    EXPECT_EQ(std::get<SubscriptionChange>(out[0]).books_before, 1u);
  }

  events_.clear();
  EXPECT_EQ(Run(), 5u);
  EXPECT_EQ(events_,
            (std::vector<std::string>{"routed A 0", "applied 1 A 1 snapshot A#2", "applied 1 A 0",
                                      "applied 1 A -1", "applied 1 A 1 snapshot A#2"}));
  EXPECT_EQ(counts_.Get("A"), 1u);
  // Live books still reach the subscriber.
  PushBook("A", R"({"n":3})");
  Run();
  ASSERT_EQ(FramesFor(1).size(), 1u);
  EXPECT_EQ(Describe(FramesFor(1)[0]), "A#3");
}

// A change whose books are all routed is applied at once, even when they came
// through other producers after it was queued: only the books before it count.
TEST_F(HubTest, ChangeDoesNotWaitForBooksEnqueuedAfterIt) {
  UpdateQueue::Token other = queue_.MakeToken();
  PushChangeWith(other, 0, "A", +1);
  PushBook("A", R"({"n":1})");
  EXPECT_EQ(Run(), 2u);
  ASSERT_EQ(events_.size(), 3u) << ::testing::PrintToString(events_);
  EXPECT_EQ(events_[0], "applied 0 A 1");
  EXPECT_EQ(events_[1], "routed A 1");
  EXPECT_EQ(events_[2], "dispatch 0: A#1");
}

TEST_F(HubTest, UnknownShardIsIgnored) {
  PushChange(kShards, "A", +1);
  PushBook("A");
  Run();
  EXPECT_TRUE(dispatched_.empty());
  EXPECT_EQ(stats_.symbols.load(), 0u);
  EXPECT_EQ(routed_, std::vector<std::size_t>{0});
}

TEST_F(HubTest, StartAndStopDeliverEverythingQueued) {
  PushChange(0, "A", +1);
  for (int i = 0; i < 100; ++i) PushBook("A");
  hub_.Start();
  hub_.Stop();  // Drains before joining.
  EXPECT_EQ(FramesFor(0).size(), 100u);
  EXPECT_EQ(stats_.updates_routed.load(), 100u);
}

}  // namespace
}  // namespace obgw::gateway

namespace obgw::gateway {
namespace {

TEST_F(HubTest, BackloggedShardGetsOnlyTheNewestBookOfEachSymbol) {
  constexpr int kSubscribers = 64;  // Each book is 64 deliveries on shard 0.
  for (int i = 0; i < kSubscribers; ++i) {
    PushChange(0, "A", +1);
    PushChange(0, "B", +1);
  }
  Run();
  stall_shards_ = true;  // The shard stops reporting delivered batches.
  // Each book is handed over until the shard is kMaxDeliveriesInFlight behind.
  std::uint64_t books_a = 0;
  for (;;) {
    std::size_t before = dispatched_.size();
    PushBook("A");
    ++books_a;
    hub_.RunOnce(microseconds(0));
    if (dispatched_.size() == before) break;  // Held back: backlogged.
    ASSERT_LT(books_a, 10 * Hub::kMaxDeliveriesInFlight);
  }
  EXPECT_EQ(held_, Hub::kMaxDeliveriesInFlight);
  const std::size_t handed_over = dispatched_.size();
  // 100 more books of each symbol wait in the hub, one per symbol.
  for (int i = 0; i < 100; ++i) {
    PushBook("A");
    PushBook("B");
    hub_.RunOnce(microseconds(0));
  }
  books_a += 100;
  EXPECT_EQ(dispatched_.size(), handed_over);
  EXPECT_EQ(stats_.conflated.load(), 100u + 99u);
  // The shard catches up: one batch with the newest book of each symbol.
  stall_shards_ = false;
  hub_.BatchDelivered(0, held_);
  hub_.RunOnce(microseconds(0));
  ASSERT_EQ(dispatched_.size(), handed_over + 1);
  const std::vector<FramePtr>& last = dispatched_.back().frames;
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(Parse(last[0]).symbol, "A");
  EXPECT_EQ(Parse(last[0]).seq, books_a);
  EXPECT_EQ(Parse(last[1]).symbol, "B");
  EXPECT_EQ(Parse(last[1]).seq, 100u);
}

TEST_F(HubTest, SubscriptionChangeFlushesABackloggedShardFirst) {
  BacklogShardZeroWithSymbolA();
  const std::size_t handed_over = dispatched_.size();
  // A new subscriber must not get a book routed before its subscription.
  PushChange(0, "A", +1);
  hub_.RunOnce(microseconds(0));
  ASSERT_EQ(dispatched_.size(), handed_over + 1);
  // Its snapshot is the newest book, the one just handed over.
  EXPECT_EQ(events_.back(),
            "applied 0 A 1 snapshot A#" + std::to_string(Hub::kMaxDeliveriesInFlight / 64 + 1));
}

}  // namespace
}  // namespace obgw::gateway

namespace obgw::gateway {
namespace {

TEST_F(HubTest, CountsHowLongBooksWaitedInTheQueue) {
  BookUpdate update;
  update.symbol = "A";
  update.data = "{}";
  // Received 5 ms ago, by the steady clock the producers use.
  update.received_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          (std::chrono::steady_clock::now() - std::chrono::milliseconds(5)).time_since_epoch())
          .count();
  queue_.PushUpdate(token_, std::move(update));
  Run();
  EXPECT_EQ(stats_.queue_delay.Count(), 1u);
  EXPECT_GE(stats_.queue_delay.Sum(), 5'000'000u);
  EXPECT_LT(stats_.queue_delay.Sum(), 5'000'000'000u);  // Not a bogus epoch difference.
}

TEST_F(HubTest, NewSubscriberGetsTheLastBookAsSnapshot) {
  PushBook("A", R"({"bids":[[1,1]],"asks":[]})");
  PushBook("A", R"({"bids":[[2,2]],"asks":[]})");
  PushChange(0, "A", +1);
  Run();
  ASSERT_EQ(snapshots_.size(), 1u);
  ASSERT_NE(snapshots_[0], nullptr);
  boost::json::value message = boost::json::parse(snapshots_[0]->payload());
  const boost::json::object& object = message.as_object();
  EXPECT_EQ(object.at("type"), "orderbook_update");
  EXPECT_EQ(object.at("symbol"), "A");
  EXPECT_EQ(object.at("seq"), 2);
  EXPECT_EQ(object.at("snapshot"), true);
  EXPECT_EQ(object.at("epoch").to_number<std::uint64_t>(), kEpoch);
  EXPECT_EQ(object.at("data"), boost::json::parse(R"({"bids":[[2,2]],"asks":[]})"));
  EXPECT_TRUE(object.at("timestamp").is_string());
  // The snapshot keeps the book's symbol: a newer book may replace it in a
  // slow client's queue.
  EXPECT_EQ(snapshots_[0]->symbol(), "A");
}

TEST_F(HubTest, NoSnapshotBeforeTheFirstBookOrForARepeatedSubscribe) {
  PushChange(0, "A", +1);  // Nothing published yet.
  PushBook("A");
  PushChange(0, "A", 0);   // Repeated subscribe: already has the books.
  PushChange(0, "A", -1);  // Unsubscribe.
  Run();
  ASSERT_EQ(snapshots_.size(), 3u);
  EXPECT_EQ(snapshots_[0], nullptr);
  EXPECT_EQ(snapshots_[1], nullptr);
  EXPECT_EQ(snapshots_[2], nullptr);
}

TEST_F(HubTest, SnapshotIsRenderedOncePerBookAndSharedBySubscribers) {
  PushBook("A");
  PushChange(0, "A", +1);
  PushChange(1, "A", +1);
  PushChange(2, "A", +1);
  Run();
  ASSERT_EQ(snapshots_.size(), 3u);
  EXPECT_EQ(snapshots_[0], snapshots_[1]);
  EXPECT_EQ(snapshots_[1], snapshots_[2]);
  EXPECT_EQ(stats_.snapshots_rendered.load(), 1u);

  // A newer book makes a new snapshot.
  PushBook("A");
  PushChange(0, "A", -1);
  PushChange(0, "A", +1);
  Run();
  ASSERT_EQ(snapshots_.size(), 5u);
  EXPECT_EQ(Describe(snapshots_[4]), "A#2");
  EXPECT_EQ(stats_.snapshots_rendered.load(), 2u);
}

TEST_F(HubTest, SnapshotThenLiveBooksContinueTheSequence) {
  PushBook("A");
  PushBook("A");
  PushChange(0, "A", +1);
  PushBook("A");
  PushBook("A");
  Run();
  ASSERT_EQ(snapshots_.size(), 1u);
  std::vector<std::string> seen{Describe(snapshots_[0])};
  for (const FramePtr& frame : FramesFor(0)) seen.push_back(Describe(frame));
  EXPECT_EQ(seen, (std::vector<std::string>{"A#2", "A#3", "A#4"}));
}

TEST_F(HubTest, TellsTheBrokerWhenTheNodeStartsAndStopsFollowingASymbol) {
  PushChange(0, "A", +1);  // First subscriber on this node.
  PushChange(1, "A", +1);
  PushChange(0, "B", +1);
  PushChange(0, "A", -1);
  PushChange(1, "A", -1);  // The last one left.
  PushChange(1, "A", -1);  // Extra: nothing to stop.
  Run();
  EXPECT_EQ(broker_.follows, (std::vector<std::string>{"+A", "+B", "-A"}));
}

TEST_F(HubTest, BookOrderedByTheClusterIsRoutedWhenItComesBack) {
  PushChange(0, "A", +1);
  broker_.to_cluster = true;
  PushBook("A", R"({"bids":[[7,1]],"asks":[]})");
  Run();
  // Taken to be ordered: not routed, not answered yet.
  ASSERT_EQ(broker_.taken.size(), 1u);
  EXPECT_TRUE(FramesFor(0).empty());
  EXPECT_TRUE(routed_.empty());
  EXPECT_EQ(stats_.updates_routed.load(), 0u);

  // The cluster gave it seq 41 of epoch 9; it comes back through the queue
  // and is routed as it is, without a second Sequence.
  BookUpdate back = std::move(broker_.taken[0]);
  back.position = StreamPosition{41, 9};
  queue_.PushUpdate(token_, std::move(back));
  Run();
  EXPECT_EQ(broker_.sequenced, 1u);
  std::vector<FramePtr> frames = FramesFor(0);
  ASSERT_EQ(frames.size(), 1u);
  Parsed parsed = Parse(frames[0]);
  EXPECT_EQ(parsed.seq, 41u);
  EXPECT_EQ(parsed.data, boost::json::parse(R"({"bids":[[7,1]],"asks":[]})"));
  EXPECT_EQ(routed_, std::vector<std::size_t>{1});

  // A new subscriber's snapshot carries the cluster's position.
  PushChange(1, "A", +1);
  Run();
  ASSERT_EQ(snapshots_.size(), 2u);
  ASSERT_NE(snapshots_[1], nullptr);
  boost::json::value snapshot = boost::json::parse(snapshots_[1]->payload());
  EXPECT_EQ(snapshot.at("seq"), 41);
  EXPECT_EQ(snapshot.at("epoch"), 9);
}

TEST_F(HubTest, BrokerContinuesFromTheLastPositionOfItsEpoch) {
  PushChange(0, "A", +1);
  BookUpdate ordered;
  ordered.symbol = "A";
  ordered.data = "{}";
  ordered.position = StreamPosition{5, kEpoch};
  queue_.PushUpdate(token_, std::move(ordered));
  PushBook("A");  // Accepted here: follows seq 5.
  Run();
  std::vector<std::string> seen;
  for (const FramePtr& frame : FramesFor(0)) seen.push_back(Describe(frame));
  EXPECT_EQ(seen, (std::vector<std::string>{"A#5", "A#6"}));
}

TEST_F(HubTest, DuplicateOrOlderBookFromTheClusterIsDropped) {
  PushChange(0, "A", +1);
  auto push_at = [this](std::uint64_t seq, std::uint64_t epoch) {
    BookUpdate update;
    update.symbol = "A";
    update.data = "{}";
    update.position = StreamPosition{seq, epoch};
    update.on_routed = [this](std::size_t subscribers) { routed_.push_back(subscribers); };
    queue_.PushUpdate(token_, std::move(update));
  };
  push_at(5, 9);
  push_at(5, 9);  // The same book twice (a fetch and a message).
  push_at(4, 9);  // Older.
  push_at(6, 9);
  Run();
  std::vector<std::string> seen;
  for (const FramePtr& frame : FramesFor(0)) seen.push_back(Describe(frame));
  EXPECT_EQ(seen, (std::vector<std::string>{"A#5", "A#6"}));
  EXPECT_EQ(stats_.stale_dropped.load(), 2u);
  // Every book is answered; the dropped ones reached nobody.
  EXPECT_EQ(routed_, (std::vector<std::size_t>{1, 0, 0, 1}));
  EXPECT_EQ(stats_.updates_routed.load(), 2u);
}

TEST_F(HubTest, LiveBookOfANewEpochCarriesIt) {
  PushChange(0, "A", +1);
  for (StreamPosition position :
       {StreamPosition{7, 9}, StreamPosition{8, 9}, StreamPosition{1, 11}, StreamPosition{2, 11}}) {
    BookUpdate update;
    update.symbol = "A";
    update.data = "{}";
    update.position = position;
    queue_.PushUpdate(token_, std::move(update));
  }
  Run();
  std::vector<FramePtr> frames = FramesFor(0);
  ASSERT_EQ(frames.size(), 4u);
  std::vector<std::string> epochs;
  for (const FramePtr& frame : frames) {
    boost::json::value message = boost::json::parse(frame->payload());
    const boost::json::value* epoch = message.as_object().if_contains("epoch");
    epochs.push_back(epoch ? boost::json::serialize(*epoch) : "-");
  }
  // The first book of a symbol needs none (the confirmation and snapshot say
  // the epoch); the seq restarting at 1 does.
  EXPECT_EQ(epochs, (std::vector<std::string>{"-", "-", "11", "-"}));
  EXPECT_EQ(Parse(frames[2]).seq, 1u);
}

TEST_F(HubTest, StoredBookOfASymbolWithoutBooksIsTheSubscribersSnapshot) {
  // Subscribed while the node had no book of A (no snapshot then); the
  // cluster's stored book arrives: it is their snapshot. A stored book of a
  // symbol the hub already had (fetched again after a reconnect) is a live
  // book like any other.
  PushChange(0, "A", +1);
  for (std::uint64_t seq : {4, 5}) {
    BookUpdate update;
    update.symbol = "A";
    update.data = "{}";
    update.position = StreamPosition{seq, 9};
    update.stored = true;
    queue_.PushUpdate(token_, std::move(update));
  }
  Run();
  std::vector<FramePtr> frames = FramesFor(0);
  ASSERT_EQ(frames.size(), 2u);
  boost::json::object first = boost::json::parse(frames[0]->payload()).as_object();
  EXPECT_EQ(first.at("snapshot"), true);
  EXPECT_EQ(first.at("epoch"), 9);
  EXPECT_EQ(first.at("seq"), 4);
  boost::json::object second = boost::json::parse(frames[1]->payload()).as_object();
  EXPECT_FALSE(second.contains("snapshot"));
  EXPECT_FALSE(second.contains("epoch"));
}

TEST_F(HubTest, BookHandedBackIsSequencedAgainUnlessALaterOneWasRouted) {
  PushChange(0, "A", +1);
  broker_.to_cluster = true;
  PushBook("A", R"({"n":1})");
  PushBook("A", R"({"n":2})");
  Run();
  ASSERT_EQ(broker_.taken.size(), 2u);
  EXPECT_EQ(broker_.taken[0].local_order, 1u);
  EXPECT_EQ(broker_.taken[1].local_order, 2u);
  // The cluster ordered book 2 but not book 1 (an error): book 1 must not
  // be shown after book 2.
  BookUpdate second = std::move(broker_.taken[1]);
  second.position = StreamPosition{10, 9};
  BookUpdate first = std::move(broker_.taken[0]);
  first.retries = 1;
  broker_.taken.clear();
  queue_.PushUpdate(token_, std::move(second));
  queue_.PushUpdate(token_, std::move(first));
  Run();
  EXPECT_EQ(broker_.sequenced, 2u);  // Book 1 was not offered again.
  EXPECT_EQ(stats_.superseded.load(), 1u);
  EXPECT_EQ(routed_, (std::vector<std::size_t>{1, 0}));

  // A book handed back with nothing later routed is sequenced again, here
  // by the node itself.
  broker_.to_cluster = true;
  PushBook("A", R"({"n":3})");
  Run();
  ASSERT_EQ(broker_.taken.size(), 1u);
  BookUpdate third = std::move(broker_.taken[0]);
  third.retries = 1;
  broker_.to_cluster = false;
  queue_.PushUpdate(token_, std::move(third));
  Run();
  EXPECT_EQ(broker_.sequenced, 4u);
  std::vector<FramePtr> frames = FramesFor(0);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(Parse(frames[1]).data, boost::json::parse(R"({"n":3})"));
  EXPECT_EQ(routed_, (std::vector<std::size_t>{1, 0, 1}));
}

}  // namespace
}  // namespace obgw::gateway

namespace obgw::gateway {
namespace {

// In-batch conflation: a batch with at least Hub::kBatchSize more messages
// waiting behind it (or a backlogged shard) renders only the newest book of
// each symbol; every book is still sequenced.

TEST_F(HubTest, BatchBehindRendersOnlyTheNewestBookOfEachSymbol) {
  PushChange(0, "A", +1);
  PushChange(0, "B", +1);
  Run();
  // Three full batches of alternating A/B books: the first two have at least
  // one full batch behind them, the last has none.
  constexpr std::size_t kBooks = 3 * Hub::kBatchSize;
  for (std::size_t i = 0; i < kBooks; ++i) {
    PushBook(i % 2 == 0 ? "A" : "B", R"({"n":)" + std::to_string(i) + "}");
  }
  EXPECT_EQ(Run(), kBooks);
  std::vector<FramePtr> frames = FramesFor(0);
  // 2 + 2 frames for the batches behind, then every book of the last one.
  ASSERT_EQ(frames.size(), 2 + 2 + Hub::kBatchSize);
  EXPECT_EQ(stats_.conflated_in_batch.load(), 2 * (Hub::kBatchSize - 2));
  EXPECT_EQ(stats_.updates_routed.load(), kBooks);
  // The first batch's frames: the last A and the last B of it, with the seq
  // each was given (every book was sequenced), rendered with its own data.
  const std::uint64_t per_symbol = Hub::kBatchSize / 2;
  EXPECT_EQ(Describe(frames[0]), "A#" + std::to_string(per_symbol));
  EXPECT_EQ(Parse(frames[0]).data,
            boost::json::parse(R"({"n":)" + std::to_string(Hub::kBatchSize - 2) + "}"));
  EXPECT_EQ(Describe(frames[1]), "B#" + std::to_string(per_symbol));
  EXPECT_EQ(Parse(frames[1]).data,
            boost::json::parse(R"({"n":)" + std::to_string(Hub::kBatchSize - 1) + "}"));
  EXPECT_EQ(Describe(frames[2]), "A#" + std::to_string(2 * per_symbol));
  EXPECT_EQ(Describe(frames[3]), "B#" + std::to_string(2 * per_symbol));
  // Per symbol, seq strictly increases and each frame carries the data of the
  // book that got that seq (A's n-th book is book 2n-2 overall, B's 2n-1).
  std::uint64_t last_seq[2] = {0, 0};
  for (const FramePtr& frame : frames) {
    Parsed parsed = Parse(frame);
    int s = parsed.symbol == "A" ? 0 : 1;
    EXPECT_GT(parsed.seq, last_seq[s]) << Describe(frame);
    last_seq[s] = parsed.seq;
    EXPECT_EQ(parsed.data.at("n").to_number<std::uint64_t>(), 2 * (parsed.seq - 1) + s)
        << Describe(frame);
  }
  EXPECT_EQ(last_seq[0], kBooks / 2);
  EXPECT_EQ(last_seq[1], kBooks / 2);
}

TEST_F(HubTest, BatchNotBehindRendersEveryBook) {
  PushChange(0, "A", +1);
  Run();
  // One batch short of "behind": every book is rendered and delivered.
  constexpr std::size_t kBooks = 2 * Hub::kBatchSize - 1;
  for (std::size_t i = 0; i < kBooks; ++i) PushBook("A", R"({"n":)" + std::to_string(i) + "}");
  EXPECT_EQ(Run(), kBooks);
  std::vector<FramePtr> frames = FramesFor(0);
  ASSERT_EQ(frames.size(), kBooks);
  for (std::size_t i = 0; i < kBooks; ++i) {
    EXPECT_EQ(Parse(frames[i]).seq, i + 1);
    EXPECT_EQ(Parse(frames[i]).data.at("n").to_number<std::uint64_t>(), i);
  }
  EXPECT_EQ(stats_.conflated_in_batch.load(), 0u);
}

TEST_F(HubTest, SubscriptionInABatchBehindSeesTheBooksAroundItInOrder) {
  PushChange(0, "A", +1);
  Run();
  // Batch 1 (behind): 100 books, a subscribe on shard 1, 100 more, then
  // filler to make up the batch; then a full batch more so batch 1 is behind.
  for (int i = 0; i < 100; ++i) PushBook("A", R"({"n":)" + std::to_string(i) + "}");
  PushChange(1, "A", +1);
  for (int i = 100; i < 200; ++i) PushBook("A", R"({"n":)" + std::to_string(i) + "}");
  for (std::size_t i = 201; i < 2 * Hub::kBatchSize; ++i) PushBook("Z");  // Nobody follows Z.
  hub_.RunOnce(microseconds(0));
  // The book routed before the subscription went out before it was applied;
  // the new subscriber's snapshot is that book; after it, both shards get
  // only the newest book of the rest of the batch.
  std::vector<std::string> seen;
  for (const std::string& event : events_) {
    if (event.rfind("routed ", 0) != 0) seen.push_back(event);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"applied 0 A 1", "dispatch 0: A#100",
                                            "applied 1 A 1 snapshot A#100", "dispatch 0: A#200",
                                            "dispatch 1: A#200"}));
  EXPECT_EQ(Parse(snapshots_.back()).data, boost::json::parse(R"({"n":99})"));
  EXPECT_EQ(Parse(FramesFor(1).back()).data, boost::json::parse(R"({"n":199})"));
  EXPECT_EQ(stats_.conflated_in_batch.load(), 99u + 99u);
  Run();
}

TEST_F(HubTest, SnapshotAfterABatchBehindIsTheNewestBook) {
  PushChange(0, "A", +1);
  Run();
  constexpr std::size_t kBooks = 2 * Hub::kBatchSize;
  for (std::size_t i = 0; i < kBooks; ++i) PushBook("A", R"({"n":)" + std::to_string(i) + "}");
  hub_.RunOnce(microseconds(0));  // Behind: one frame, A#512.
  ASSERT_EQ(FramesFor(0).size(), 1u);
  EXPECT_EQ(Describe(FramesFor(0)[0]), "A#" + std::to_string(Hub::kBatchSize));
  Run();
  PushChange(2, "A", +1);
  Run();
  ASSERT_TRUE(snapshots_.back());
  EXPECT_EQ(Describe(snapshots_.back()), "A#" + std::to_string(kBooks));
  EXPECT_EQ(Parse(snapshots_.back()).data,
            boost::json::parse(R"({"n":)" + std::to_string(kBooks - 1) + "}"));
}

TEST_F(HubTest, BackloggedShardMakesABatchRenderOnlyTheNewestBook) {
  BacklogShardZeroWithSymbolA();
  const std::uint64_t before = stats_.updates_routed.load();
  // The shard is backlogged: a batch of 10 books renders one frame.
  for (int i = 0; i < 10; ++i) PushBook("A", R"({"n":)" + std::to_string(i) + "}");
  hub_.RunOnce(microseconds(0));
  EXPECT_EQ(stats_.updates_routed.load(), before + 10);
  EXPECT_EQ(stats_.conflated_in_batch.load(), 9u);
  stall_shards_ = false;
  hub_.BatchDelivered(0, held_);
  hub_.RunOnce(microseconds(0));
  EXPECT_EQ(Parse(dispatched_.back().frames.back()).data, boost::json::parse(R"({"n":9})"));
}

}  // namespace
}  // namespace obgw::gateway
