#include "gateway/ws/client_frame_reader.h"
#include "gateway/ws/utf8.h"

#include <cstdint>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace obgw::gateway {
namespace {

using Kind = ClientFrameReader::Kind;

// One client frame: first byte `first` (FIN, RSV, opcode), masked with a
// fixed key, the shortest length form unless `length_form` forces 126/127.
std::string ClientFrame(unsigned char first, std::string_view payload, int length_form = 0) {
  std::string frame(1, static_cast<char>(first));
  const std::uint64_t n = payload.size();
  if (length_form == 127 || (length_form == 0 && n > 0xFFFF)) {
    frame.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8) frame.push_back(static_cast<char>(n >> shift));
  } else if (length_form == 126 || (length_form == 0 && n >= 126)) {
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>(n >> 8));
    frame.push_back(static_cast<char>(n));
  } else {
    frame.push_back(static_cast<char>(0x80 | n));
  }
  const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
  frame.append(reinterpret_cast<const char*>(key), 4);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    frame.push_back(static_cast<char>(static_cast<unsigned char>(payload[i]) ^ key[i % 4]));
  }
  return frame;
}

TEST(ClientFrameReaderTest, UnmasksATextMessage) {
  ClientFrameReader reader(1024);
  std::string wire = ClientFrame(0x81, R"({"action":"subscribe","symbol":"AAPL"})");
  std::string_view input = wire;
  ClientFrameReader::Event event = reader.Next(input);
  EXPECT_EQ(event.kind, Kind::kText);
  EXPECT_FALSE(event.compressed);
  EXPECT_EQ(reader.payload(), R"({"action":"subscribe","symbol":"AAPL"})");
  EXPECT_TRUE(input.empty());
  EXPECT_EQ(reader.Next(input).kind, Kind::kNeedMore);
}

TEST(ClientFrameReaderTest, AssemblesBytesArrivingOneAtATime) {
  ClientFrameReader reader(100000);
  const std::string payload(300, 'x');  // A 16-bit length.
  std::string wire = ClientFrame(0x81, payload);
  for (std::size_t i = 0; i + 1 < wire.size(); ++i) {
    std::string_view one(&wire[i], 1);
    ASSERT_EQ(reader.Next(one).kind, Kind::kNeedMore) << i;
    EXPECT_TRUE(one.empty());
  }
  std::string_view last(&wire.back(), 1);
  EXPECT_EQ(reader.Next(last).kind, Kind::kText);
  EXPECT_EQ(reader.payload(), payload);
}

TEST(ClientFrameReaderTest, JoinsFragmentsAroundAnInterleavedPing) {
  ClientFrameReader reader(1024);
  std::string wire = ClientFrame(0x01, "hel") + ClientFrame(0x89, "are you there") +
                     ClientFrame(0x00, "lo ") + ClientFrame(0x80, "world");
  std::string_view input = wire;
  EXPECT_EQ(reader.Next(input).kind, Kind::kPing);
  EXPECT_EQ(reader.payload(), "are you there");
  EXPECT_EQ(reader.Next(input).kind, Kind::kText);
  EXPECT_EQ(reader.payload(), "hello world");
  EXPECT_EQ(reader.Next(input).kind, Kind::kNeedMore);
}

TEST(ClientFrameReaderTest, SeveralMessagesInOneReadComeOneByOne) {
  ClientFrameReader reader(1024);
  std::string wire = ClientFrame(0x81, "one") + ClientFrame(0x82, "two") + ClientFrame(0x8A, "");
  std::string_view input = wire;
  EXPECT_EQ(reader.Next(input).kind, Kind::kText);
  EXPECT_EQ(reader.payload(), "one");
  EXPECT_EQ(reader.Next(input).kind, Kind::kBinary);
  EXPECT_EQ(reader.payload(), "two");
  EXPECT_EQ(reader.Next(input).kind, Kind::kPong);
  EXPECT_EQ(reader.payload(), "");
  EXPECT_EQ(reader.Next(input).kind, Kind::kNeedMore);
}

TEST(ClientFrameReaderTest, CloseCarriesItsCodeAndReason) {
  ClientFrameReader reader(1024);
  std::string wire = ClientFrame(0x88, std::string("\x03\xE8") + "bye");
  std::string_view input = wire;
  ClientFrameReader::Event event = reader.Next(input);
  EXPECT_EQ(event.kind, Kind::kClose);
  EXPECT_EQ(event.code, 1000);
  EXPECT_EQ(reader.payload(), "bye");

  ClientFrameReader empty(1024);
  wire = ClientFrame(0x88, "");
  input = wire;
  event = empty.Next(input);
  EXPECT_EQ(event.kind, Kind::kClose);
  EXPECT_EQ(event.code, ClientFrameReader::kNoStatus);
}

TEST(ClientFrameReaderTest, MessageOverTheLimitIsTooBigEvenAcrossFragments) {
  ClientFrameReader reader(10);
  std::string wire = ClientFrame(0x81, std::string(11, 'a'));
  std::string_view input = wire;
  ClientFrameReader::Event event = reader.Next(input);
  EXPECT_EQ(event.kind, Kind::kError);
  EXPECT_EQ(event.code, ClientFrameReader::kTooBig);
  // Refused at the header: the payload is never buffered.
  EXPECT_EQ(input.size(), 11u);

  ClientFrameReader fragmented(10);
  wire = ClientFrame(0x01, std::string(6, 'a')) + ClientFrame(0x80, std::string(5, 'a'));
  input = wire;
  EXPECT_EQ(fragmented.Next(input).code, ClientFrameReader::kTooBig);

  ClientFrameReader exact(10);
  wire = ClientFrame(0x01, std::string(5, 'a')) + ClientFrame(0x80, std::string(5, 'a'));
  input = wire;
  EXPECT_EQ(exact.Next(input).kind, Kind::kText);
}

TEST(ClientFrameReaderTest, ProtocolViolationsAreErrors1002AndStick) {
  struct Case {
    const char* name;
    std::string wire;
  };
  std::string unmasked = ClientFrame(0x81, "hi");
  unmasked[1] = static_cast<char>(unmasked[1] & 0x7F);
  unmasked.erase(2, 4);
  const Case cases[] = {
      {"unmasked", unmasked},
      {"rsv2", ClientFrame(0xA1, "hi")},
      {"rsv1 without deflate", ClientFrame(0xC1, "hi")},
      {"unknown data opcode", ClientFrame(0x83, "hi")},
      {"unknown control opcode", ClientFrame(0x8B, "")},
      {"fragmented ping", ClientFrame(0x09, "")},
      {"long ping", ClientFrame(0x89, std::string(126, 'p'))},
      {"continuation first", ClientFrame(0x80, "hi")},
      {"text inside a message", ClientFrame(0x01, "a") + ClientFrame(0x81, "b")},
      {"16-bit length under 126", ClientFrame(0x81, "short", 126)},
      {"64-bit length under 65536", ClientFrame(0x81, "short", 127)},
      {"one-byte close", ClientFrame(0x88, "\x03")},
      {"invalid close code", ClientFrame(0x88, std::string("\x03\xED", 2))},  // 1005
      {"close reason not UTF-8", ClientFrame(0x88, std::string("\x03\xE8\xC0\xAF", 4))},
  };
  for (const Case& c : cases) {
    ClientFrameReader reader(1 << 20);
    std::string_view input = c.wire;
    ClientFrameReader::Event event = reader.Next(input);
    EXPECT_EQ(event.kind, Kind::kError) << c.name;
    EXPECT_EQ(event.code, ClientFrameReader::kProtocolError) << c.name;
    std::string more = ClientFrame(0x81, "after");
    std::string_view after = more;
    EXPECT_EQ(reader.Next(after).kind, Kind::kError) << c.name;
  }
}

TEST(ClientFrameReaderTest, Rsv1MarksACompressedMessageOnceNegotiated) {
  ClientFrameReader reader(1024);
  reader.AllowCompression();
  std::string wire = ClientFrame(0x41, "ab") + ClientFrame(0x80, "cd");
  std::string_view input = wire;
  ClientFrameReader::Event event = reader.Next(input);
  EXPECT_EQ(event.kind, Kind::kText);
  EXPECT_TRUE(event.compressed);
  EXPECT_EQ(reader.payload(), "abcd");
  // Only the first frame of a message may carry it.
  wire = ClientFrame(0x41, "ab") + ClientFrame(0xC0, "cd");
  input = wire;
  EXPECT_EQ(reader.Next(input).code, ClientFrameReader::kProtocolError);
}

TEST(Utf8Test, AcceptsWellFormedAndRejectsTheRest) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\x88"));  // é € 📈
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));                           // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\x80"));                                      // Lone continuation.
  EXPECT_FALSE(IsValidUtf8("\xC3"));                                      // Truncated.
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));                                  // Overlong '/'.
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));                              // Overlong.
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));                              // Surrogate D800.
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));                          // Above U+10FFFF.
  EXPECT_FALSE(IsValidUtf8("\xF8\x88\x80\x80\x80"));                      // 5-byte form.
  EXPECT_FALSE(IsValidUtf8("ok\xE2\x82"));                                // Cut at the end.
}

}  // namespace
}  // namespace obgw::gateway
