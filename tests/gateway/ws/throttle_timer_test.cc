#include "gateway/ws/throttle_timer.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "gateway/fanout/clock.h"
#include "gateway/fanout/thread_affinity.h"

namespace obgw::gateway {
namespace {

using std::chrono::hours;

// Due times are in the past or an hour away on the manual clock, so the
// test never waits: poll() runs what is due now and nothing else.
class ThrottleTimerTest : public ::testing::Test {
 protected:
  std::function<void()> Record(std::string name) {
    return [this, name] { woken_.push_back(name); };
  }
  void Poll() {
    io_.restart();
    io_.poll();
  }

  boost::asio::io_context io_;
  ManualClock clock_;
  ThreadAffinity thread_;  // Unbound: the test thread is the shard thread.
  ThrottleTimer timer_{io_.get_executor(), clock_, thread_};
  std::vector<std::string> woken_;
};

TEST_F(ThrottleTimerTest, TheEarliestWakeUpWins) {
  const Clock::time_point start = clock_.Now();
  timer_.WakeAt(start + hours(1), Record("later"));
  timer_.WakeAt(start, Record("now"));
  timer_.WakeAt(start + hours(2), Record("ignored"));  // An earlier one is set.
  Poll();
  EXPECT_EQ(woken_, std::vector<std::string>{"now"});
}

TEST_F(ThrottleTimerTest, DelayIsMeasuredOnTheInjectedClock) {
  const Clock::time_point start = clock_.Now();
  timer_.WakeAt(start + hours(1), Record("in an hour"));
  Poll();
  EXPECT_TRUE(woken_.empty());
  // Once the hour has passed on the clock, a wake-up at that time is due
  // at once.
  timer_.Cancel();
  clock_.Advance(hours(1));
  timer_.WakeAt(start + hours(1), Record("due"));
  Poll();
  EXPECT_EQ(woken_, std::vector<std::string>{"due"});
}

TEST_F(ThrottleTimerTest, AfterWakingTheNextWakeUpCanBeAnyTime) {
  const Clock::time_point start = clock_.Now();
  timer_.WakeAt(start, Record("first"));
  Poll();
  clock_.Advance(hours(1));
  timer_.WakeAt(clock_.Now(), Record("second"));  // Later than the first: still armed.
  Poll();
  EXPECT_EQ(woken_, (std::vector<std::string>{"first", "second"}));
}

TEST_F(ThrottleTimerTest, CancelledWakeUpNeverRuns) {
  timer_.WakeAt(clock_.Now(), Record("cancelled"));
  timer_.Cancel();
  Poll();
  EXPECT_TRUE(woken_.empty());
}

}  // namespace
}  // namespace obgw::gateway
