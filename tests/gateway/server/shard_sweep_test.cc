#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/post.hpp>

#include "gateway/cluster/in_memory_cluster.h"
#include "gateway/fanout/clock.h"
#include "gateway/server/shard.h"
#include "gateway/server/shard_session.h"
#include "gateway/server/shared_state.h"

namespace obgw::gateway {
namespace {

using std::chrono::milliseconds;

// Records the time of every sweep it is ticked by, for the test thread.
class RecordingSession final : public ShardSession,
                               public std::enable_shared_from_this<RecordingSession> {
 public:
  bool Queue(const FramePtr&) override { return false; }
  void Flush() override {}
  void Tick(Clock::time_point now) override {
    std::lock_guard<std::mutex> lock(mu_);
    ticks_.push_back(now);
    cv_.notify_all();
  }
  void CloseGoingAway() override {}
  std::shared_ptr<ShardSession> Keep() override { return shared_from_this(); }

  // Waits for a tick at `expected` (a safety bound, not a sleep: the shard
  // sweeps every 20 ms here); true when it came.
  bool WaitForTickAt(Clock::time_point expected) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10),
                        [&] { return !ticks_.empty() && ticks_.back() == expected; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Clock::time_point> ticks_;
};

GatewayConfig FastSweepConfig() {
  GatewayConfig config;
  config.threads = 1;
  config.ping_interval = milliseconds(80);  // A sweep every 20 ms.
  config.idle_timeout = milliseconds(0);
  return config;
}

TEST(ShardSweepTest, SessionsAreTickedWithTheInjectedClocksTime) {
  ManualClock clock;
  GatewayConfig config = FastSweepConfig();
  SharedState state(
      config, InMemoryCluster::Factory(config.session_ttl, config.max_connections_per_client));
  auto session = std::make_shared<RecordingSession>();
  Shard shard(0, state, clock);
  shard.Start();
  boost::asio::post(shard.io_context(), [&] { shard.Register(session.get()); });
  const Clock::time_point start = clock.Now();
  ASSERT_TRUE(session->WaitForTickAt(start));
  // Simulated time: a sweep sees the clock's time, however little real
  // time has passed.
  clock.Advance(std::chrono::hours(2));
  ASSERT_TRUE(session->WaitForTickAt(start + std::chrono::hours(2)));
  clock.Advance(milliseconds(1));
  ASSERT_TRUE(session->WaitForTickAt(start + std::chrono::hours(2) + milliseconds(1)));
  shard.Stop();
}

}  // namespace
}  // namespace obgw::gateway
