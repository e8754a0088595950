#include "gateway/logging/line_limiter.h"

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace obgw::gateway {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kStart = 1000 * kSecond;

TEST(LineLimiterTest, ABurstPassesThenTheRate) {
  LineLimiter limiter;
  limiter.Configure(/*per_second=*/10, /*burst=*/5);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Take(kStart)) << i;
  EXPECT_FALSE(limiter.Take(kStart));
  EXPECT_FALSE(limiter.Take(kStart + kSecond / 20));  // Half a token back.
  EXPECT_TRUE(limiter.Take(kStart + kSecond / 10));   // One token.
  EXPECT_FALSE(limiter.Take(kStart + kSecond / 10));
  // A quiet second refills the whole burst, no more.
  const std::int64_t later = kStart + 3 * kSecond;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Take(later)) << i;
  EXPECT_FALSE(limiter.Take(later));
}

TEST(LineLimiterTest, RefusedLinesAreSummedUpOnceOldEnough) {
  LineLimiter limiter;
  limiter.Configure(1, 1);
  EXPECT_TRUE(limiter.Take(kStart));
  EXPECT_FALSE(limiter.Take(kStart + 10));
  EXPECT_FALSE(limiter.Take(kStart + 20));
  EXPECT_FALSE(limiter.Take(kStart + 30));
  // Younger than the minimum age: nothing yet, nothing lost.
  EXPECT_EQ(limiter.TakeSuppressed(kStart + kSecond / 2, kSecond).lines, 0u);
  LineLimiter::Suppressed suppressed = limiter.TakeSuppressed(kStart + kSecond + 10, kSecond);
  EXPECT_EQ(suppressed.lines, 3u);
  EXPECT_EQ(suppressed.since_ns, kStart + 10);
  // Taken: the next summary starts from zero.
  EXPECT_EQ(limiter.TakeSuppressed(kStart + 5 * kSecond, 0).lines, 0u);
}

TEST(LineLimiterTest, UnlimitedPassesEverything) {
  LineLimiter limiter;
  limiter.Configure(0, 1);
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(limiter.Take(kStart));
  EXPECT_EQ(limiter.TakeSuppressed(kStart, 0).lines, 0u);
}

// Many threads at one instant: exactly the burst passes, every other line
// is counted once.
TEST(LineLimiterTest, ThreadsShareOneBucket) {
  LineLimiter limiter;
  limiter.Configure(1, 50);
  constexpr int kThreads = 4;
  constexpr int kLinesEach = 20000;
  std::atomic<int> passed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kLinesEach; ++i) {
        if (limiter.Take(kStart)) passed.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(passed.load(), 50);
  EXPECT_EQ(limiter.TakeSuppressed(kStart, 0).lines, std::uint64_t{kThreads * kLinesEach - 50});
}

}  // namespace
}  // namespace obgw::gateway
