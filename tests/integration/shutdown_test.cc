// SIGTERM: the gateway closes every WebSocket with 1001 "going away" and
// exits 0 within its grace period.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "gateway_process.h"
#include "http_test_client.h"
#include "test_util.h"
#include "ws_test_client.h"

namespace obgw::testing {
namespace {

TEST(ShutdownTest, SigtermClosesClientsWith1001AndExitsZero) {
  OBGW_START_GATEWAY(gw, {});
  WsTestClient first;
  WsTestClient second;
  ASSERT_TRUE(first.Connect(gw->http_port(), "shutdown-1")) << first.error();
  ASSERT_TRUE(second.Connect(gw->http_port(), "shutdown-2")) << second.error();
  std::string error;
  ASSERT_TRUE(Subscribe(first, "AAPL", &error)) << error;
  ASSERT_TRUE(Subscribe(second, "MSFT", &error)) << error;

  auto started = std::chrono::steady_clock::now();
  int status = gw->process().Stop(std::chrono::seconds(5));
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(status, 0) << gw->Output();
  // Well inside the 5 s after which Stop() would have used SIGKILL.
  EXPECT_LT(took, std::chrono::seconds(4)) << gw->Output();

  for (WsTestClient* client : {&first, &second}) {
    // Whatever was queued may come first; then the close frame.
    while (client->Read()) {
    }
    EXPECT_TRUE(client->closed()) << client->error();
    EXPECT_EQ(client->close_code(), 1001) << client->error();
  }
}

}  // namespace
}  // namespace obgw::testing
