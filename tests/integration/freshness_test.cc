// A client that stops reading gets, once it reads again, the newest books and
// not a backlog of stale ones: the send side keeps books in the connection's
// Outbox (small kernel send buffer, bounded writes), where the age bound
// (--session_queue_max_age_ms) keeps only the newest book of each symbol.
//
// Conflation is made certain by volume, not by timing: the client reads
// nothing until the publisher has published far more bytes than the kernel
// buffers between the gateway and the client can hold (a fixed 16 KiB send
// buffer, a 4 KiB receive buffer, both doubled by Linux), and the Outbox never
// holds more than a few books of the one symbol once the age bound holds.

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "grpc_test_client.h"
#include "http_test_client.h"
#include "raw_ws_client.h"
#include "test_util.h"

namespace obgw::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

TEST(FreshnessTest, SlowReaderSeesSeqOnlyMoveForwardAndNewestBooks) {
  // Generous slow-consumer limits: the reader stalls on purpose and must not
  // be closed for it.
  OBGW_START_GATEWAY(gw, {"--session_queue_max_age_ms=1", "--socket_send_buffer_bytes=16384",
                          "--send_timeout_ms=120000", "--slow_consumer_grace_ms=120000"});
  const int port = gw->http_port();

  RawWsClient reader;
  ASSERT_TRUE(reader.Connect(port, "/ws/slow-reader", 4096)) << reader.error();
  ASSERT_TRUE(reader.SendText(R"({"action":"subscribe","symbols":["FRESH"]})")) << reader.error();
  std::optional<RawWsClient::Frame> confirmed = reader.ReadFrame(std::chrono::seconds(10));
  ASSERT_TRUE(confirmed.has_value()) << reader.error();
  ASSERT_NE(confirmed->payload.find("subscription_confirmed"), std::string::npos)
      << confirmed->payload;

  // 4000 books of 20 + 20 levels (about 1 KB each; a level is rendered as
  // [price,volume,orders]): about 4 MB, over 40
  // times what the kernel buffers between gateway and reader can hold. Each
  // book's publish index is its source_seq and the volume of its first bid,
  // so a received book shows which publish it is.
  constexpr std::uint64_t kBooks = 4000;
  {
    PublishStreamWriter writer(gw->grpc_target());
    for (std::uint64_t i = 1; i <= kBooks; ++i) {
      orderbook::v1::OrderBookUpdate book = MakeUpdate("FRESH", i, 20);
      book.mutable_bids(0)->set_volume(static_cast<double>(i));
      ASSERT_TRUE(writer.Write(book)) << "publish " << i;
    }
    PublishResult result = writer.Finish();
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    ASSERT_EQ(result.summary.rejected(), 0u);
  }

  // Now read, until the last published book arrives (or the gateway stops
  // sending: the test fails below).
  std::vector<std::int64_t> seqs;
  std::vector<std::int64_t> indexes;
  int malformed = 0;
  while (indexes.empty() || indexes.back() != static_cast<std::int64_t>(kBooks)) {
    std::optional<RawWsClient::Frame> frame = reader.ReadFrame(std::chrono::seconds(30));
    ASSERT_TRUE(frame.has_value()) << "after " << indexes.size() << " books: " << reader.error();
    if (frame->opcode == 0x9) continue;  // A ping.
    ASSERT_EQ(frame->opcode, 0x1) << frame->payload;
    SCOPED_TRACE(frame->payload.substr(0, 300));
    json::value message = json::parse(frame->payload);
    const json::object& object = message.as_object();
    if (object.at("type").as_string() != "orderbook_update") {
      ++malformed;
      continue;
    }
    const json::object& data = object.at("data").as_object();
    seqs.push_back(object.at("seq").to_number<std::int64_t>());
    std::int64_t source_seq = data.at("source_seq").to_number<std::int64_t>();
    std::int64_t volume = static_cast<std::int64_t>(
        data.at("bids").as_array().at(0).as_array().at(1).to_number<double>());
    // The book is the one its publish index says.
    EXPECT_EQ(source_seq, volume) << frame->payload;
    indexes.push_back(source_seq);
  }
  EXPECT_EQ(malformed, 0);

  std::printf("[ info ] %zu of %llu books reached the slow reader\n", indexes.size(),
              static_cast<unsigned long long>(kBooks));
  // Conflation happened...
  EXPECT_LT(indexes.size(), kBooks);
  // ...and never sent a book after a newer one: seq and the publish index
  // only move forward, together (seq counts the symbol's books, so a book's
  // seq and its publish index differ by the same amount for every book).
  for (std::size_t i = 1; i < seqs.size(); ++i) {
    EXPECT_GT(seqs[i], seqs[i - 1]) << "book " << i;
    EXPECT_GT(indexes[i], indexes[i - 1]) << "book " << i;
    EXPECT_EQ(seqs[i] - indexes[i], seqs[0] - indexes[0]) << "book " << i;
  }
  // The newest book reached the client (the loop ends on it).
  EXPECT_EQ(indexes.back(), static_cast<std::int64_t>(kBooks));

  json::value stats = GetStats(port);
  std::printf(
      "[ info ] session_conflated_age %lld, messages_conflated %lld, "
      "socket_buffer_full %lld\n",
      static_cast<long long>(FindInt(stats, "session_conflated_age").value_or(-1)),
      static_cast<long long>(FindInt(stats, "messages_conflated").value_or(-1)),
      static_cast<long long>(FindInt(stats, "socket_buffer_full").value_or(-1)));
  // The reader was not closed for its stall.
  EXPECT_EQ(FindInt(stats, "ws_closed_slow_consumer"), 0) << Str(stats);
}

}  // namespace
}  // namespace obgw::testing
