#include "gateway/fanout/frame.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "gateway/fanout/update_frame.h"

namespace obgw::gateway {
namespace {

// What a client decodes from one server frame (RFC 6455 section 5.2).
struct Decoded {
  bool fin = false;
  int opcode = -1;
  bool masked = true;
  std::uint64_t length = 0;
  std::size_t header_size = 0;
  int length_bits = 0;
};

Decoded Decode(std::string_view wire) {
  Decoded d;
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(wire.at(i)); };
  d.fin = (byte(0) & 0x80) != 0;
  d.opcode = byte(0) & 0x0F;
  d.masked = (byte(1) & 0x80) != 0;
  std::uint64_t len7 = byte(1) & 0x7F;
  if (len7 < 126) {
    d.length = len7;
    d.header_size = 2;
    d.length_bits = 7;
  } else if (len7 == 126) {
    d.length = (std::uint64_t{byte(2)} << 8) | byte(3);
    d.header_size = 4;
    d.length_bits = 16;
  } else {
    for (int i = 0; i < 8; ++i) d.length = (d.length << 8) | byte(2 + i);
    d.header_size = 10;
    d.length_bits = 64;
  }
  return d;
}

std::string Payload(std::size_t size) {
  std::string payload(size, '\0');
  for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>('a' + i % 26);
  return payload;
}

class FrameSizeTest : public ::testing::TestWithParam<std::size_t> {};

TEST_P(FrameSizeTest, EncodesAValidUnmaskedFinalTextFrame) {
  const std::size_t size = GetParam();
  const std::string payload = Payload(size);
  FramePtr frame = Frame::Text(payload, "AAPL");
  ASSERT_NE(frame, nullptr);
  std::string_view wire = frame->wire();

  EXPECT_EQ(static_cast<unsigned char>(wire[0]), 0x81);  // FIN, RSV=0, opcode text.
  Decoded d = Decode(wire);
  EXPECT_TRUE(d.fin);
  EXPECT_EQ(d.opcode, 1);
  EXPECT_FALSE(d.masked);
  EXPECT_EQ(d.length, size);
  // The shortest encoding is required (RFC 6455: "the minimal number of bytes").
  int expected_bits = size < 126 ? 7 : size <= 0xFFFF ? 16 : 64;
  EXPECT_EQ(d.length_bits, expected_bits);
  if (d.length_bits == 64) {
    EXPECT_EQ(static_cast<unsigned char>(wire[2]) & 0x80, 0);  // MSB must be 0.
  }
  ASSERT_EQ(wire.size(), d.header_size + size);
  EXPECT_EQ(wire.substr(d.header_size), payload);
  EXPECT_EQ(frame->payload(), payload);
  EXPECT_EQ(frame->symbol(), "AAPL");
}

INSTANTIATE_TEST_SUITE_P(Sizes, FrameSizeTest,
                         ::testing::Values(0, 1, 125, 126, 127, 65535, 65536, 70000));

TEST(FrameTest, ExactHeaderBytes) {
  EXPECT_EQ(Frame::Text("")->wire(), std::string("\x81\x00", 2));
  EXPECT_EQ(Frame::Text("hi")->wire(), std::string("\x81\x02hi", 4));
  FramePtr f126 = Frame::Text(Payload(126));
  EXPECT_EQ(f126->wire().substr(0, 4), std::string("\x81\x7E\x00\x7E", 4));
  FramePtr f65535 = Frame::Text(Payload(65535));
  EXPECT_EQ(f65535->wire().substr(0, 4), std::string("\x81\x7E\xFF\xFF", 4));
  FramePtr f70000 = Frame::Text(Payload(70000));  // 70000 = 0x011170
  EXPECT_EQ(f70000->wire().substr(0, 10),
            std::string("\x81\x7F\x00\x00\x00\x00\x00\x01\x11\x70", 10));
}

TEST(FrameTest, DefaultSymbolIsEmpty) {
  EXPECT_TRUE(Frame::Text(R"({"type":"pong"})")->symbol().empty());
}

TEST(FrameTest, TextInPlaceWritesThePayloadOnce) {
  int calls = 0;
  FramePtr frame = Frame::TextInPlace(5, "X", [&](char* out) {
    ++calls;
    std::memcpy(out, "hello", 5);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(frame->payload(), "hello");
  EXPECT_EQ(frame->wire(), std::string("\x81\x05hello", 7));
}

TEST(RenderUpdateFrameTest, ProducesTheLegacyUpdateMessage) {
  const std::string data =
      R"({"bids":[[100.5,10,1],[100.4,3,2]],"asks":[[100.6,5,1]],"note":"t\u00e9st","n":null})";
  FramePtr frame = RenderUpdateFrame("BRK.B", 42, "2024-01-01T12:00:00.000001+00:00", data);
  ASSERT_NE(frame, nullptr);
  EXPECT_EQ(frame->symbol(), "BRK.B");  // The conflation key.

  Decoded d = Decode(frame->wire());
  EXPECT_EQ(d.opcode, 1);
  EXPECT_EQ(d.length, frame->payload().size());
  EXPECT_EQ(d.header_size + d.length, frame->wire().size());

  boost::system::error_code ec;
  boost::json::value message = boost::json::parse(frame->payload(), ec);
  ASSERT_FALSE(ec) << frame->payload();
  ASSERT_TRUE(message.is_object());
  const boost::json::object& object = message.as_object();
  EXPECT_EQ(object.size(), 5u);
  EXPECT_EQ(object.at("type"), "orderbook_update");
  EXPECT_EQ(object.at("symbol"), "BRK.B");
  ASSERT_TRUE(object.at("seq").is_int64() || object.at("seq").is_uint64());
  EXPECT_EQ(object.at("seq").to_number<std::uint64_t>(), 42u);
  EXPECT_EQ(object.at("timestamp"), "2024-01-01T12:00:00.000001+00:00");
  EXPECT_EQ(object.at("data"), boost::json::parse(data));
}

TEST(RenderUpdateFrameTest, DataIsInsertedVerbatim) {
  // The producer's bytes go out unchanged (no re-encoding of numbers/spacing).
  const std::string data = R"({ "bids" : [[1.10, 2.0e1, 3]] })";
  FramePtr frame = RenderUpdateFrame("AAPL", 1, "T", data);
  EXPECT_NE(frame->payload().find(data), std::string_view::npos);
  EXPECT_EQ(
      frame->payload(),
      R"({"type":"orderbook_update","symbol":"AAPL","seq":1,"timestamp":"T","data":)" + data + "}");
}

TEST(RenderUpdateFrameTest, LargeSeqAndLargeData) {
  std::string data = R"({"pad":")" + std::string(70000, 'x') + R"("})";
  FramePtr frame = RenderUpdateFrame("HK.00700", UINT64_MAX, "T", data);
  EXPECT_EQ(Decode(frame->wire()).length_bits, 64);
  boost::json::value message = boost::json::parse(frame->payload());
  EXPECT_EQ(message.at("seq").as_uint64(), UINT64_MAX);
  EXPECT_EQ(message.at("data"), boost::json::parse(data));
}

using std::chrono::system_clock;

system_clock::time_point At(std::int64_t unix_micros) {
  return system_clock::time_point(std::chrono::microseconds(unix_micros));
}

constexpr std::int64_t k20240101T120000 = 1704110400;  // 2024-01-01T12:00:00Z

TEST(IsoClockTest, FormatsLikePythonIsoformat) {
  IsoClock clock;
  EXPECT_EQ(clock.Format(At(k20240101T120000 * 1'000'000 + 1)), "2024-01-01T12:00:00.000001+00:00");
  EXPECT_EQ(clock.Format(At(k20240101T120000 * 1'000'000 + 123456)),
            "2024-01-01T12:00:00.123456+00:00");
  EXPECT_EQ(clock.Format(At(0)), "1970-01-01T00:00:00.000000+00:00");
  // 2024-02-29T23:59:59.999999Z, a leap day.
  EXPECT_EQ(clock.Format(At(1709251199LL * 1'000'000 + 999999)),
            "2024-02-29T23:59:59.999999+00:00");
}

TEST(IsoClockTest, CrossesASecondBoundary) {
  IsoClock clock;
  // Same second twice (cached), then the next second, the next day, the next year.
  EXPECT_EQ(clock.Format(At(k20240101T120000 * 1'000'000 + 999998)),
            "2024-01-01T12:00:00.999998+00:00");
  EXPECT_EQ(clock.Format(At(k20240101T120000 * 1'000'000 + 999999)),
            "2024-01-01T12:00:00.999999+00:00");
  EXPECT_EQ(clock.Format(At((k20240101T120000 + 1) * 1'000'000)),
            "2024-01-01T12:00:01.000000+00:00");
  EXPECT_EQ(clock.Format(At(1735689599LL * 1'000'000 + 500000)),
            "2024-12-31T23:59:59.500000+00:00");
  EXPECT_EQ(clock.Format(At(1735689600LL * 1'000'000)), "2025-01-01T00:00:00.000000+00:00");
  // Going back in time is formatted correctly too.
  EXPECT_EQ(clock.Format(At(k20240101T120000 * 1'000'000 + 7)), "2024-01-01T12:00:00.000007+00:00");
}

TEST(IsoClockTest, NowHasTheRightShape) {
  IsoClock clock;
  std::string text(clock.Format(system_clock::now()));
  ASSERT_EQ(text.size(), 32u);
  EXPECT_EQ(text[4], '-');
  EXPECT_EQ(text[10], 'T');
  EXPECT_EQ(text[19], '.');
  EXPECT_EQ(text.substr(26), "+00:00");
}

}  // namespace
}  // namespace obgw::gateway
