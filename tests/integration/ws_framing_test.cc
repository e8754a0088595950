// The gateway's own decoding of client frames (ClientFrameReader, after
// Beast's handshake): control frames answered, fragments joined, the close
// handshake echoed, violations closed with their RFC 6455 code. Raw frames
// from RawWsClient, since a Beast client sends only well-formed ones.
#include <chrono>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "raw_ws_client.h"
#include "test_util.h"

namespace obgw::testing {
namespace {

namespace json = boost::json;
using std::chrono::seconds;

// The next frame that is not a gateway heartbeat ping.
std::optional<RawWsClient::Frame> NextFrame(RawWsClient& client) {
  for (;;) {
    std::optional<RawWsClient::Frame> frame = client.ReadFrame(seconds(5));
    if (!frame || frame->opcode != 0x9) return frame;
  }
}

TEST(WsFramingTest, PingIsAnsweredAndFragmentsAroundItFormOneMessage) {
  OBGW_START_GATEWAY(gw, {});
  RawWsClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "/ws/framing")) << client.error();
  // A subscribe in three fragments, a ping between the first two.
  ASSERT_TRUE(client.SendFrame(0x01, R"({"action":"subs)"));
  ASSERT_TRUE(client.SendFrame(0x89, "are you there"));
  ASSERT_TRUE(client.SendFrame(0x00, R"(cribe","symbol":)"));
  ASSERT_TRUE(client.SendFrame(0x80, R"("AAPL","req_id":"f"})"));
  std::optional<RawWsClient::Frame> pong = NextFrame(client);
  ASSERT_TRUE(pong) << client.error();
  EXPECT_EQ(pong->opcode, 0xA);
  EXPECT_EQ(pong->payload, "are you there");
  std::optional<RawWsClient::Frame> reply = NextFrame(client);
  ASSERT_TRUE(reply) << client.error();
  ASSERT_EQ(reply->opcode, 0x1);
  json::object confirmed = json::parse(reply->payload).as_object();
  EXPECT_EQ(confirmed.at("type"), "subscription_confirmed") << reply->payload;
  EXPECT_EQ(confirmed.at("req_id"), "f");
}

TEST(WsFramingTest, ClientCloseIsEchoedThenTheConnectionEnds) {
  OBGW_START_GATEWAY(gw, {});
  RawWsClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "/ws/closer")) << client.error();
  ASSERT_TRUE(client.SendFrame(0x88, std::string("\x03\xE8", 2) + "done"));
  std::optional<RawWsClient::Frame> close = NextFrame(client);
  ASSERT_TRUE(close) << client.error();
  EXPECT_EQ(close->opcode, 0x8);
  EXPECT_EQ(close->close_code(), 1000);
  EXPECT_TRUE(client.DrainUntilClosed(seconds(5)));
}

TEST(WsFramingTest, ViolationsCloseWithTheirCode) {
  OBGW_START_GATEWAY(gw, {});
  struct Case {
    const char* name;
    unsigned char first_byte;
    std::string payload;
    int code;
  };
  const Case cases[] = {
      {"reserved bit", 0xA1, R"({"action":"ping"})", 1002},
      {"compressed without deflate", 0xC1, R"({"action":"ping"})", 1002},
      {"continuation first", 0x80, "x", 1002},
      {"text not UTF-8", 0x81, "\xC0\xAF", 1007},
  };
  for (const Case& c : cases) {
    RawWsClient client;
    ASSERT_TRUE(client.Connect(gw->http_port(), "/ws/violator")) << client.error();
    ASSERT_TRUE(client.SendFrame(c.first_byte, c.payload)) << c.name;
    std::optional<RawWsClient::Frame> close = NextFrame(client);
    ASSERT_TRUE(close) << c.name << ": " << client.error();
    EXPECT_EQ(close->opcode, 0x8) << c.name;
    EXPECT_EQ(close->close_code(), c.code) << c.name;
    EXPECT_TRUE(client.DrainUntilClosed(seconds(5))) << c.name;
  }
}

}  // namespace
}  // namespace obgw::testing
