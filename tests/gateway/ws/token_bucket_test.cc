#include "gateway/ws/token_bucket.h"

#include <chrono>

#include <gtest/gtest.h>

#include "gateway/fanout/clock.h"

namespace obgw::gateway {
namespace {

using std::chrono::milliseconds;
using Verdict = TokenBucket::Verdict;

TEST(TokenBucketTest, FullBurstThenRefusedUntilRefilled) {
  ManualClock clock;
  TokenBucket bucket(/*burst=*/5, /*per_second=*/10, clock.Now());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bucket.Take(clock.Now()), Verdict::kAccepted) << i;
  EXPECT_EQ(bucket.Take(clock.Now()), Verdict::kRefused);
  // 10 per second: one token every 100 ms.
  clock.Advance(milliseconds(99));
  EXPECT_EQ(bucket.Take(clock.Now()), Verdict::kRefused);
  clock.Advance(milliseconds(2));
  EXPECT_EQ(bucket.Take(clock.Now()), Verdict::kAccepted);
  EXPECT_EQ(bucket.Take(clock.Now()), Verdict::kRefused);
}

TEST(TokenBucketTest, RefillStopsAtTheBurst) {
  ManualClock clock;
  TokenBucket bucket(3, 100, clock.Now());
  clock.Advance(std::chrono::hours(1));  // Silent for long: still only `burst` tokens.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.Take(clock.Now()), Verdict::kAccepted) << i;
  EXPECT_EQ(bucket.Take(clock.Now()), Verdict::kRefused);
}

TEST(TokenBucketTest, HangsUpAfterBurstRefusalsInARow) {
  ManualClock clock;
  TokenBucket bucket(4, 1, clock.Now());
  for (int i = 0; i < 4; ++i) ASSERT_EQ(bucket.Take(clock.Now()), Verdict::kAccepted);
  // Refusals 1 to 3 are answered; the 4th in a row ends the connection.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.Take(clock.Now()), Verdict::kRefused) << i;
  EXPECT_EQ(bucket.Take(clock.Now()), Verdict::kHangUp);
}

TEST(TokenBucketTest, AnAcceptedMessageResetsTheRefusalCount) {
  ManualClock clock;
  TokenBucket bucket(3, 1, clock.Now());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(bucket.Take(clock.Now()), Verdict::kAccepted);
  EXPECT_EQ(bucket.Take(clock.Now()), Verdict::kRefused);
  EXPECT_EQ(bucket.Take(clock.Now()), Verdict::kRefused);
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(bucket.Take(clock.Now()), Verdict::kAccepted);
  // Counting starts again: two refusals are answered, the third hangs up.
  EXPECT_EQ(bucket.Take(clock.Now()), Verdict::kRefused);
  EXPECT_EQ(bucket.Take(clock.Now()), Verdict::kRefused);
  EXPECT_EQ(bucket.Take(clock.Now()), Verdict::kHangUp);
}

TEST(TokenBucketTest, FractionalRatesAccumulate) {
  ManualClock clock;
  TokenBucket bucket(1, 0.5, clock.Now());  // One token every 2 s.
  ASSERT_EQ(bucket.Take(clock.Now()), Verdict::kAccepted);
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(bucket.Take(clock.Now()), Verdict::kHangUp);  // Burst 1: the first refusal.
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(bucket.Take(clock.Now()), Verdict::kAccepted);
}

}  // namespace
}  // namespace obgw::gateway
