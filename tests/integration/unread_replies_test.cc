// A client that sends requests but never reads the replies is closed with
// 1008 "too many unread replies", and nobody else notices.
//
// Runs alone (integration_serial_tests, RUN_SERIAL): the flooder's tiny
// receive buffer (4 KB, no window scaling) makes the TCP exchange fragile
// when the gateway reads slower than the flooder writes (see kBurst).

#include <chrono>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "http_test_client.h"
#include "test_util.h"
#include "ws_test_client.h"

namespace obgw::testing {
namespace {

TEST(UnreadRepliesTest, ClientThatNeverReadsRepliesIsClosedWith1008) {
  // No rate limit: this client floods, and must be stopped by the reply bound.
  OBGW_START_GATEWAY(gw, {"--max_messages_per_second=1000000", "--max_message_burst=1000000"});
  // A raw Beast client that writes pings and reads nothing, with a tiny
  // receive buffer: the pongs pile up in the gateway until it gives up.
  boost::asio::io_context io;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> flooder(io);
  flooder.next_layer().open(boost::asio::ip::tcp::v4());
  flooder.next_layer().set_option(boost::asio::socket_base::receive_buffer_size(4096));
  flooder.next_layer().connect(
      {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(gw->http_port())});
  flooder.handshake("127.0.0.1", "/ws/flooder");
  // It floods until the gateway gives up on it (checked every kBurst pings),
  // and not longer: the gateway drops a connection whose close frame stays
  // unread for 2 s (a TCP reset, which would discard the close frame), so
  // the flooder must start reading soon after the close. Small bursts, each
  // followed by a /stats round trip, keep the gateway's receive window open:
  // once a slow gateway (a sanitizer build, busy cores) had advertised a
  // zero window, its window update rode on a segment the flooder's full
  // 4 KB buffer dropped, and both sides waited on each other for good.
  constexpr int kBurst = 32;
  boost::beast::error_code ec;
  bool gave_up = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!gave_up && !ec && std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < kBurst && !ec; ++i) {
      flooder.write(boost::asio::buffer(std::string_view(R"({"action":"ping"})")), ec);
    }
    gave_up = FindInt(GetStats(gw->http_port()), "ws_closed_unread_replies").value_or(0) >= 1;
  }
  ASSERT_TRUE(gave_up) << ec.message();
  // The flooder reads the pongs queued before the close, then the close frame.
  boost::beast::flat_buffer buffer;
  std::size_t pongs = 0;
  while (!ec) {
    flooder.read(buffer, ec);
    buffer.clear();
    if (!ec) ++pongs;
  }
  ASSERT_EQ(ec, boost::beast::websocket::error::closed) << ec.message() << " after " << pongs;
  EXPECT_EQ(flooder.reason().code, 1008) << flooder.reason().reason;
  EXPECT_EQ(std::string(flooder.reason().reason.data(), flooder.reason().reason.size()),
            "too many unread replies");
  EXPECT_GT(pongs, 0u);
  boost::json::value stats = GetStats(gw->http_port());
  EXPECT_EQ(FindInt(stats, "ws_closed_unread_replies"), 1) << Str(stats);
  // Everyone else is served as before.
  WsTestClient other;
  ASSERT_TRUE(other.Connect(gw->http_port(), "other")) << other.error();
  std::string error;
  EXPECT_TRUE(Subscribe(other, "AAPL", &error)) << error;
}

}  // namespace
}  // namespace obgw::testing
