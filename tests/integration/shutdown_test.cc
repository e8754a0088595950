// SIGTERM: the gateway stops accepting, lets open gRPC streams end within
// --shutdown_grace_ms (their books still reach subscribers), closes every
// WebSocket with 1001 "server shutting down" and exits 0 within a bounded time.
#include <chrono>
#include <future>
#include <string>

#include <gtest/gtest.h>

#include "gateway_process.h"
#include "grpc_test_client.h"
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

// Reads `client` until a book with seq `seq` arrives; false if it does not.
bool ReadUntilSeq(WsTestClient& client, std::int64_t seq) {
  while (std::optional<boost::json::object> update = client.ReadUntilType("orderbook_update")) {
    if (FindInt(*update, "seq") == seq) return true;
  }
  return false;
}

TEST(ShutdownTest, OpenGrpcStreamEndsWithinTheGraceAndItsBooksAreDelivered) {
  OBGW_START_GATEWAY(gw, {"--shutdown_grace_ms=3000"});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "shutdown-grpc")) << client.error();
  std::string error;
  ASSERT_TRUE(Subscribe(client, "AAPL", &error)) << error;
  PublishStreamWriter stream(gw->grpc_target());
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(stream.Write(MakeUpdate("AAPL", i)));
  ASSERT_TRUE(ReadUntilSeq(client, 5)) << client.error();

  std::future<int> stopped = std::async(
      std::launch::async, [&gw] { return gw->process().Stop(std::chrono::seconds(15)); });
  // Shutting down: the port closes soon after the signal, and from then on
  // no new connection is accepted ...
  bool refused = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!refused && std::chrono::steady_clock::now() < deadline) {
    WsTestClient late;
    refused = !late.Connect(gw->http_port(), "late", std::chrono::seconds(1));
  }
  ASSERT_TRUE(refused) << "new connections still accepted 5 s after SIGTERM";
  // ... but the open stream still publishes, and ends normally.
  for (int i = 6; i <= 10; ++i) EXPECT_TRUE(stream.Write(MakeUpdate("AAPL", i)));
  PublishResult result = stream.Finish();
  EXPECT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.summary.accepted(), 10u);
  EXPECT_TRUE(ReadUntilSeq(client, 10)) << "books of the finishing stream must be delivered";
  while (client.Read()) {
  }
  EXPECT_EQ(client.close_code(), 1001) << client.error();
  EXPECT_EQ(stopped.get(), 0) << gw->Output();
}

TEST(ShutdownTest, StreamStillOpenAtTheDeadlineIsCancelledAndExitIsBounded) {
  OBGW_START_GATEWAY(gw, {"--shutdown_grace_ms=500"});
  PublishStreamWriter stream(gw->grpc_target());
  ASSERT_TRUE(stream.Write(MakeUpdate("AAPL", 1)));
  auto started = std::chrono::steady_clock::now();
  int status = gw->process().Stop(std::chrono::seconds(10));
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(status, 0) << gw->Output();
  // 500 ms for the stream, up to 500 ms for WebSockets (none), plus slack.
  EXPECT_LT(took, std::chrono::seconds(3)) << gw->Output();
  PublishResult result = stream.Finish();
  EXPECT_FALSE(result.status.ok());
}

}  // namespace
}  // namespace obgw::testing
