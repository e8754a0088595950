// CurrentHealth, the one decision GET /health and the gRPC health service
// (grpc.health.v1, SERVING / NOT_SERVING) both report: healthy, degraded by
// the cluster (its reason first), degraded by the queue at its high-water mark.
#include "gateway/http/status_report.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "gateway/cluster/in_memory_cluster.h"
#include "gateway/server/shared_state.h"

namespace obgw::gateway {
namespace {

// A one-node cluster whose health the test sets.
class FakeCluster final : public InMemoryCluster {
 public:
  FakeCluster() : InMemoryCluster(std::chrono::seconds(1), 10) {}
  std::string DegradedReason() const override { return reason; }
  std::string reason;
};

class CurrentHealthTest : public ::testing::Test {
 protected:
  static GatewayConfig Config() {
    GatewayConfig config;
    config.threads = 1;
    config.queue_high_water = 2;
    return config;
  }

  CurrentHealthTest()
      : state_(Config(), [this](UpdateQueue&) -> std::unique_ptr<Cluster> {
          auto cluster = std::make_unique<FakeCluster>();
          cluster_ = cluster.get();
          return cluster;
        }) {}

  void Push() {
    BookUpdate update;
    update.symbol = "AAPL";
    update.data = R"({"bids":[],"asks":[]})";
    state_.queue.PushUpdate(token_, std::move(update));
  }

  std::string HealthBodyStatus() {
    return std::string(boost::json::parse(RenderHealth(state_)).at("status").as_string());
  }

  FakeCluster* cluster_ = nullptr;
  SharedState state_;
  UpdateQueue::Token token_ = state_.queue.MakeToken();
};

TEST_F(CurrentHealthTest, HealthyWhenNothingIsWrong) {
  EXPECT_TRUE(CurrentHealth(state_).healthy());
  EXPECT_EQ(CurrentHealth(state_).degraded_reason, "");
  EXPECT_EQ(HealthBodyStatus(), "healthy");
}

TEST_F(CurrentHealthTest, DegradedWithTheClustersReason) {
  cluster_->reason = "redis unreachable: Connection refused";
  Health health = CurrentHealth(state_);
  EXPECT_FALSE(health.healthy());
  EXPECT_EQ(health.degraded_reason, "redis unreachable: Connection refused");
  boost::json::value body = boost::json::parse(RenderHealth(state_));
  EXPECT_EQ(body.at("status"), "degraded");
  EXPECT_EQ(body.at("reason"), "redis unreachable: Connection refused");
}

TEST_F(CurrentHealthTest, DegradedAtTheQueueHighWaterMarkOnly) {
  Push();
  EXPECT_TRUE(CurrentHealth(state_).healthy()) << "1 of 2 queued";
  Push();
  Health health = CurrentHealth(state_);
  EXPECT_FALSE(health.healthy());
  EXPECT_EQ(health.degraded_reason,
            "queue at its high-water mark: producers are being pushed back");
  EXPECT_EQ(HealthBodyStatus(), "degraded");
  // The cluster's reason comes first when both hold.
  cluster_->reason = "redis unreachable: timeout";
  EXPECT_EQ(CurrentHealth(state_).degraded_reason, "redis unreachable: timeout");
}

}  // namespace
}  // namespace obgw::gateway
