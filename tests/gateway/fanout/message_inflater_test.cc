#include "gateway/fanout/message_inflater.h"

#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <zlib.h>

namespace obgw::gateway {
namespace {

// What a permessage-deflate client sends: raw deflate with `window_bits`,
// flushed, the trailing 00 00 FF FF removed (RFC 7692 7.2.1).
std::string ClientDeflate(std::string_view text, int window_bits) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, text.size()) + 16, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_SYNC_FLUSH), Z_OK);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  EXPECT_EQ(out.substr(out.size() - 4), std::string("\x00\x00\xff\xff", 4));
  out.resize(out.size() - 4);
  return out;
}

TEST(MessageInflaterTest, InflatesMessagesOfAnyWindowOneAfterAnother) {
  MessageInflater inflater;
  std::string out;
  const std::string subscribe = R"({"action":"subscribe","symbols":["AAPL","MSFT","GOOG"]})";
  for (int bits : {9, 12, 15}) {
    ASSERT_EQ(inflater.Inflate(ClientDeflate(subscribe, bits), 0, out),
              MessageInflater::Result::kOk)
        << bits;
    EXPECT_EQ(out, subscribe) << bits;
  }
  // Larger than the first guess at its size (a highly compressible message).
  const std::string big(50000, 'a');
  ASSERT_EQ(inflater.Inflate(ClientDeflate(big, 15), 0, out), MessageInflater::Result::kOk);
  EXPECT_EQ(out, big);
  // An empty message is the empty block alone.
  ASSERT_EQ(inflater.Inflate(ClientDeflate("", 15), 0, out), MessageInflater::Result::kOk);
  EXPECT_EQ(out, "");
}

TEST(MessageInflaterTest, StopsAtTheLimitAndRejectsGarbage) {
  MessageInflater inflater;
  std::string out;
  EXPECT_EQ(inflater.Inflate(ClientDeflate(std::string(5000, 'z'), 15), 4096, out),
            MessageInflater::Result::kTooBig);
  EXPECT_EQ(inflater.Inflate(ClientDeflate(std::string(4096, 'z'), 15), 4096, out),
            MessageInflater::Result::kOk);
  EXPECT_EQ(inflater.Inflate("\xff\xff\xff\xff garbage", 0, out),
            MessageInflater::Result::kCorrupt);
  // Still usable after a bad message.
  EXPECT_EQ(inflater.Inflate(ClientDeflate("ok", 15), 0, out), MessageInflater::Result::kOk);
  EXPECT_EQ(out, "ok");
}

}  // namespace
}  // namespace obgw::gateway
