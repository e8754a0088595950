// Requests sent back to back, before the hub answered the first: every
// subscription that ends up live gets its snapshot first, and nothing of a
// symbol arrives between its unsubscription_confirmed and the next
// subscription_confirmed.

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "http_test_client.h"
#include "test_util.h"
#include "ws_test_client.h"

namespace obgw::testing {
namespace {

namespace json = boost::json;

TEST(SubscriptionRaceTest, SubscribeUnsubscribeSubscribeBurstGetsOneSnapshotThenLiveBooks) {
  OBGW_START_GATEWAY(gw, {});
  for (int i = 0; i < 3; ++i) ASSERT_EQ(PostBook(gw->http_port(), "AAPL", kGuideBody).status, 200);
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "race")) << client.error();
  for (int round = 0; round < 20; ++round) {
    // One TCP write would be ideal; three back-to-back sends are what a
    // client does, and the gateway reads them before the hub answers.
    ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbol":"AAPL","req_id":1})"));
    ASSERT_TRUE(client.SendText(R"({"action":"unsubscribe","symbol":"AAPL","req_id":2})"));
    ASSERT_TRUE(client.SendText(R"({"action":"subscribe","symbol":"AAPL","req_id":3})"));
    // Until the answer to the third request and the message after it.
    std::vector<std::string> seen;
    std::int64_t snapshot_seq = 0;
    while (seen.size() < 2 || seen[seen.size() - 2] != "subscription_confirmed#3") {
      std::optional<json::object> message = client.ReadJson();
      ASSERT_TRUE(message) << client.error();
      std::string type(message->at("type").as_string());
      if (type == "orderbook_update") {
        // Only snapshots here: nothing was published during the burst.
        EXPECT_TRUE(message->contains("snapshot")) << "round " << round << ": " << Str(*message);
        snapshot_seq = FindInt(*message, "seq").value_or(0);
        type = "snapshot";
      } else {
        type += "#" + std::to_string(FindInt(*message, "req_id").value_or(0));
      }
      seen.push_back(type);
      ASSERT_LT(seen.size(), 6u) << "round " << round;
    }
    // Whether the first subscription went live before the unsubscribe was
    // read depends on timing (then it got its own snapshot); the third is
    // always live and always starts with the snapshot.
    std::vector<std::string> expected{"subscription_confirmed#1", "unsubscription_confirmed#2",
                                      "subscription_confirmed#3", "snapshot"};
    if (seen.size() == 5) expected.insert(expected.begin() + 1, "snapshot");
    EXPECT_EQ(seen, expected) << "round " << round;
    EXPECT_EQ(snapshot_seq, 3 + round);
    // Live books follow the snapshot without a gap.
    ASSERT_EQ(PostBook(gw->http_port(), "AAPL", kGuideBody).status, 200);
    std::optional<json::object> live = client.ReadJson();
    ASSERT_TRUE(live) << client.error();
    EXPECT_EQ(FindInt(*live, "seq"), snapshot_seq + 1) << Str(*live);
    EXPECT_FALSE(live->contains("snapshot")) << Str(*live);
    // Back to no subscription for the next round.
    ASSERT_TRUE(client.SendText(R"({"action":"unsubscribe","symbol":"AAPL"})"));
    std::optional<json::object> done = client.ReadUntilType("unsubscription_confirmed");
    ASSERT_TRUE(done) << client.error();
  }
}

}  // namespace
}  // namespace obgw::testing
