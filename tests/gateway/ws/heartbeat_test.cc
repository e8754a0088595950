#include "gateway/ws/heartbeat.h"

#include <chrono>

#include <gtest/gtest.h>

#include "gateway/fanout/clock.h"

namespace obgw::gateway {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Verdict = Heartbeat::Verdict;

TEST(HeartbeatTest, SilentPeerIsPingedEveryIntervalThenIdleClosed) {
  ManualClock clock;
  Heartbeat heartbeat(seconds(20), seconds(60), clock.Now());
  clock.Advance(milliseconds(19999));
  EXPECT_EQ(heartbeat.Check(clock.Now()), Verdict::kNothing);
  clock.Advance(milliseconds(1));
  EXPECT_EQ(heartbeat.Check(clock.Now()), Verdict::kPing);
  // One ping per interval, not one per check.
  EXPECT_EQ(heartbeat.Check(clock.Now()), Verdict::kNothing);
  clock.Advance(seconds(19));
  EXPECT_EQ(heartbeat.Check(clock.Now()), Verdict::kNothing);
  clock.Advance(seconds(1));
  EXPECT_EQ(heartbeat.Check(clock.Now()), Verdict::kPing);  // At 40 s.
  clock.Advance(seconds(20));
  EXPECT_EQ(heartbeat.Check(clock.Now()), Verdict::kIdle);  // At 60 s: closed, not pinged.
}

TEST(HeartbeatTest, HearingThePeerPostponesPingAndIdle) {
  ManualClock clock;
  Heartbeat heartbeat(seconds(20), seconds(60), clock.Now());
  for (int i = 0; i < 10; ++i) {
    clock.Advance(seconds(15));
    heartbeat.Heard(clock.Now());
    EXPECT_EQ(heartbeat.Check(clock.Now()), Verdict::kNothing) << i;
  }
  clock.Advance(seconds(20));
  EXPECT_EQ(heartbeat.Check(clock.Now()), Verdict::kPing);
}

TEST(HeartbeatTest, APeerThatAnsweredIsPingedAgainOnlyAfterAFullSilentInterval) {
  ManualClock clock;
  Heartbeat heartbeat(seconds(20), seconds(60), clock.Now());
  clock.Advance(seconds(20));
  ASSERT_EQ(heartbeat.Check(clock.Now()), Verdict::kPing);
  clock.Advance(seconds(1));
  heartbeat.Heard(clock.Now());  // The pong, at 21 s.
  clock.Advance(seconds(19));    // 40 s: an interval since the ping, not since the pong.
  EXPECT_EQ(heartbeat.Check(clock.Now()), Verdict::kNothing);
  clock.Advance(seconds(1));
  EXPECT_EQ(heartbeat.Check(clock.Now()), Verdict::kPing);
}

TEST(HeartbeatTest, ZeroDisablesPingOrIdle) {
  ManualClock clock;
  Heartbeat no_ping(seconds(0), seconds(60), clock.Now());
  Heartbeat no_idle(seconds(20), seconds(0), clock.Now());
  clock.Advance(seconds(59));
  EXPECT_EQ(no_ping.Check(clock.Now()), Verdict::kNothing);
  clock.Advance(seconds(1));
  EXPECT_EQ(no_ping.Check(clock.Now()), Verdict::kIdle);
  clock.Advance(std::chrono::hours(1));
  EXPECT_EQ(no_idle.Check(clock.Now()), Verdict::kPing);
  EXPECT_EQ(no_idle.Check(clock.Now()), Verdict::kNothing);
}

}  // namespace
}  // namespace obgw::gateway
