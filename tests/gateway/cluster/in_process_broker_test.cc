#include "gateway/cluster/in_process_broker.h"

#include <chrono>
#include <cstdint>

#include <gtest/gtest.h>

namespace obgw::gateway {
namespace {

constexpr std::uint64_t kEpoch = 1700000000123456;

BookUpdate Book(const std::string& symbol) {
  BookUpdate update;
  update.symbol = symbol;
  update.data = R"({"bids":[],"asks":[]})";
  return update;
}

TEST(InProcessBrokerTest, OrdersEveryBookAtOnceAfterTheLastPosition) {
  InProcessBroker broker(kEpoch);
  BookUpdate first = Book("A");
  ASSERT_TRUE(broker.Sequence(first, StreamPosition{}));
  EXPECT_EQ(first.position.offset, 1u);
  EXPECT_EQ(first.position.epoch, kEpoch);

  BookUpdate next = Book("A");
  ASSERT_TRUE(broker.Sequence(next, first.position));
  EXPECT_EQ(next.position.offset, 2u);
  EXPECT_EQ(next.position.epoch, kEpoch);
  // Sequenced in place: the book is the hub's to route, untouched.
  EXPECT_EQ(next.symbol, "A");
  EXPECT_EQ(next.data, R"({"bids":[],"asks":[]})");
}

TEST(InProcessBrokerTest, PositionOfAnotherEpochStartsTheSequenceOver) {
  InProcessBroker broker(kEpoch);
  BookUpdate update = Book("A");
  ASSERT_TRUE(broker.Sequence(update, StreamPosition{17, kEpoch - 1}));
  EXPECT_EQ(update.position.offset, 1u);
  EXPECT_EQ(update.position.epoch, kEpoch);
}

TEST(InProcessBrokerTest, KnowsWhichSymbolsThisNodeFollows) {
  InProcessBroker broker(kEpoch);
  EXPECT_FALSE(broker.Follows("A"));
  broker.Follow("A");
  broker.Follow("B");
  EXPECT_TRUE(broker.Follows("A"));
  EXPECT_TRUE(broker.Follows("B"));
  broker.Unfollow("A");
  EXPECT_FALSE(broker.Follows("A"));
  EXPECT_TRUE(broker.Follows("B"));
}

TEST(InProcessBrokerTest, EpochNowIsTheStartTimeInMicroseconds) {
  auto now_us = [] {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  };
  std::uint64_t before = now_us();
  std::uint64_t epoch = InProcessBroker::EpochNow();
  std::uint64_t after = now_us();
  EXPECT_GE(epoch, before);
  EXPECT_LE(epoch, after);
  EXPECT_EQ(InProcessBroker(epoch).epoch(), epoch);
}

}  // namespace
}  // namespace obgw::gateway
