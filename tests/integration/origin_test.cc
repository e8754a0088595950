// The Origin allow-list of WebSocket upgrades (--allowed_origins,
// --allow_missing_origin): a page from another site gets 403 before any
// WebSocket work, counted, and the gateway keeps serving the pages it allows.

#include <string>

#include <gtest/gtest.h>

#include "gateway_process.h"
#include "http_test_client.h"
#include "raw_ws_client.h"
#include "test_util.h"

namespace obgw::testing {
namespace {

// Connects /ws/<id> with `headers` ("Name: value\r\n" each); returns the HTTP status.
int Upgrade(int port, const std::string& id, const std::string& headers) {
  RawWsClient client;
  client.SetExtraHeaders(headers);
  client.Connect(port, "/ws/" + id);
  return client.status();
}

TEST(OriginTest, OnlyListedOriginsOpenAWebSocket) {
  OBGW_START_GATEWAY(gw, {"--allowed_origins=https://app.example.com,http://localhost:8002"});
  const int port = gw->http_port();
  EXPECT_EQ(Upgrade(port, "a", "Origin: https://app.example.com\r\n"), 101);
  EXPECT_EQ(Upgrade(port, "b", "Origin: http://LOCALHOST:8002\r\n"), 101);
  EXPECT_EQ(Upgrade(port, "c", "Origin: https://evil.example\r\n"), 403);
  EXPECT_EQ(Upgrade(port, "d", "Origin: null\r\n"), 403);
  EXPECT_EQ(Upgrade(port, "e", ""), 101);  // Not a browser: allowed by default.
  // A session is counted once its shard has registered it, which may be just
  // after its 101 reached the client.
  boost::json::value stats = WaitForStat(port, "connections_total", 3);
  EXPECT_EQ(FindInt(stats, "connections_total"), 3) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ws_refused_origin"), 2) << Str(stats);
}

TEST(OriginTest, MissingOriginCanBeRefused) {
  OBGW_START_GATEWAY(gw,
                     {"--allowed_origins=https://app.example.com", "--allow_missing_origin=false"});
  const int port = gw->http_port();
  EXPECT_EQ(Upgrade(port, "a", ""), 403);
  EXPECT_EQ(Upgrade(port, "b", "Origin: https://app.example.com\r\n"), 101);
}

}  // namespace
}  // namespace obgw::testing
