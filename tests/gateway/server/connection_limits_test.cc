#include "gateway/server/connection_limits.h"

#include <gtest/gtest.h>

namespace obgw::gateway {
namespace {

using Verdict = ConnectionLimits::Verdict;

TEST(ConnectionLimitsTest, PerClientLimitCountsEachIdSeparately) {
  ConnectionLimits limits(/*per_client=*/2, /*per_node=*/100);
  EXPECT_EQ(limits.Admit("alice"), Verdict::kAdmitted);
  EXPECT_EQ(limits.Admit("alice"), Verdict::kAdmitted);
  EXPECT_EQ(limits.Admit("alice"), Verdict::kClientLimit);
  EXPECT_EQ(limits.Admit("bob"), Verdict::kAdmitted);
  limits.Release("alice");
  EXPECT_EQ(limits.Admit("alice"), Verdict::kAdmitted);
}

TEST(ConnectionLimitsTest, NodeLimitCountsEveryId) {
  ConnectionLimits limits(/*per_client=*/10, /*per_node=*/2);
  EXPECT_EQ(limits.Admit("a"), Verdict::kAdmitted);
  EXPECT_EQ(limits.Admit("b"), Verdict::kAdmitted);
  EXPECT_EQ(limits.Admit("c"), Verdict::kNodeLimit);
  // A refused connection took no slot.
  limits.Release("b");
  EXPECT_EQ(limits.Admit("c"), Verdict::kAdmitted);
}

TEST(ConnectionLimitsTest, ReleasingAnUnknownIdChangesNothing) {
  ConnectionLimits limits(/*per_client=*/1, /*per_node=*/1);
  limits.Release("ghost");
  EXPECT_EQ(limits.Admit("a"), Verdict::kAdmitted);
  EXPECT_EQ(limits.Admit("b"), Verdict::kNodeLimit);
}

}  // namespace
}  // namespace obgw::gateway
