#include "gateway/ws/symbol_throttle.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace obgw::gateway {
namespace {

using Clock = SymbolThrottle::Clock;
using std::chrono::milliseconds;

FramePtr Book(const std::string& symbol, int n) {
  return Frame::Text(R"({"n":)" + std::to_string(n) + "}", symbol);
}

TEST(SymbolThrottleTest, FirstBookPassesThenOnePerIntervalLatestWins) {
  SymbolThrottle throttle(milliseconds(100));
  const Clock::time_point t0 = Clock::now();
  FramePtr a1 = Book("A", 1), a2 = Book("A", 2), a3 = Book("A", 3);
  EXPECT_TRUE(throttle.Pass(a1, t0).send_now);

  SymbolThrottle::Verdict second = throttle.Pass(a2, t0 + milliseconds(10));
  EXPECT_FALSE(second.send_now);
  EXPECT_FALSE(second.replaced);
  EXPECT_EQ(second.due, t0 + milliseconds(100));
  SymbolThrottle::Verdict third = throttle.Pass(a3, t0 + milliseconds(20));
  EXPECT_FALSE(third.send_now);
  EXPECT_TRUE(third.replaced);  // a2 never goes out.

  std::vector<FramePtr> due;
  EXPECT_EQ(throttle.TakeDue(t0 + milliseconds(50), due), t0 + milliseconds(100));
  EXPECT_TRUE(due.empty());
  EXPECT_EQ(throttle.TakeDue(t0 + milliseconds(100), due), std::nullopt);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0], a3);
  // The interval restarts when the waiting book went out.
  SymbolThrottle::Verdict fourth = throttle.Pass(Book("A", 4), t0 + milliseconds(150));
  EXPECT_FALSE(fourth.send_now);
  EXPECT_EQ(fourth.due, t0 + milliseconds(200));
}

TEST(SymbolThrottleTest, SymbolsAreThrottledIndependently) {
  SymbolThrottle throttle(milliseconds(100));
  const Clock::time_point t0 = Clock::now();
  EXPECT_TRUE(throttle.Pass(Book("A", 1), t0).send_now);
  EXPECT_TRUE(throttle.Pass(Book("B", 1), t0 + milliseconds(1)).send_now);
  EXPECT_FALSE(throttle.Pass(Book("A", 2), t0 + milliseconds(2)).send_now);
  EXPECT_FALSE(throttle.Pass(Book("B", 2), t0 + milliseconds(3)).send_now);
  std::vector<FramePtr> due;
  // A is due first; B's time is what the timer waits for next.
  EXPECT_EQ(throttle.TakeDue(t0 + milliseconds(100), due), t0 + milliseconds(101));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0]->symbol(), "A");
}

TEST(SymbolThrottleTest, ForgetDropsTheWaitingBookAndTheInterval) {
  SymbolThrottle throttle(milliseconds(100));
  const Clock::time_point t0 = Clock::now();
  EXPECT_TRUE(throttle.Pass(Book("A", 1), t0).send_now);
  EXPECT_FALSE(throttle.Pass(Book("A", 2), t0 + milliseconds(1)).send_now);
  throttle.Forget("A");  // Unsubscribed.
  std::vector<FramePtr> due;
  EXPECT_EQ(throttle.TakeDue(t0 + milliseconds(200), due), std::nullopt);
  EXPECT_TRUE(due.empty());
  // Subscribed again: its first book (the snapshot) goes out at once.
  EXPECT_TRUE(throttle.Pass(Book("A", 3), t0 + milliseconds(2)).send_now);
}

}  // namespace
}  // namespace obgw::gateway
