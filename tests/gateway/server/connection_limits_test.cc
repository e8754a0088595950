#include "gateway/server/connection_limits.h"

#include <gtest/gtest.h>

namespace obgw::gateway {
namespace {

TEST(ConnectionLimitsTest, NodeLimitCountsEveryConnection) {
  ConnectionLimits limits(/*per_node=*/2);
  EXPECT_TRUE(limits.Admit());
  EXPECT_TRUE(limits.Admit());
  EXPECT_FALSE(limits.Admit());
  EXPECT_FALSE(limits.Admit());
  // A refused connection took no slot: one release frees exactly one.
  limits.Release();
  EXPECT_TRUE(limits.Admit());
  EXPECT_FALSE(limits.Admit());
}

}  // namespace
}  // namespace obgw::gateway
