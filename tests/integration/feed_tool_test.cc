// The orderbook-feed load tool publishes over gRPC into a real gateway.

#include <string>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "http_test_client.h"
#include "test_util.h"
#include "ws_test_client.h"

namespace obgw::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

// [price, volume, orders]: two positive numbers... and a non-negative integer.
bool IsLevel(const json::value& level, std::string* why) {
  if (!level.is_array() || level.as_array().size() != 3) {
    *why = "not a triple: " + Str(level);
    return false;
  }
  const json::array& t = level.as_array();
  if (!t[0].is_number() || !(t[0].to_number<double>() > 0)) {
    *why = "bad price: " + Str(level);
    return false;
  }
  if (!t[1].is_number() || !(t[1].to_number<double>() >= 0)) {
    *why = "bad volume: " + Str(level);
    return false;
  }
  if (!FindInt(t[2], "").has_value() || *FindInt(t[2], "") < 0) {
    *why = "bad orders: " + Str(level);
    return false;
  }
  return true;
}

TEST(FeedToolTest, FeedPublishesBooksSubscribersReceive) {
  OBGW_START_GATEWAY(gw, {});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "feed-watcher")) << client.error();
  std::string error;
  ASSERT_TRUE(Subscribe(client, "AAPL", &error)) << error;

  std::unique_ptr<Process> feed = Process::Spawn(
      BinDir() + "/orderbook-feed",
      {"--target=" + gw->grpc_target(), "--symbols=3", "--rate=200", "--count=100"}, &error);
  ASSERT_NE(feed, nullptr) << error;
  std::optional<int> code = feed->WaitForExit(std::chrono::seconds(20));
  ASSERT_TRUE(code) << "orderbook-feed did not finish:\n" << feed->Output();
  EXPECT_EQ(*code, 0) << feed->Output();

  int received = 0;
  std::int64_t last_seq = 0;
  while (std::optional<json::object> update =
             ReadUpdate(client, "AAPL", received == 0 ? milliseconds(5000) : milliseconds(500))) {
    ++received;
    std::int64_t seq = FindInt(*update, "seq").value_or(0);
    EXPECT_GT(seq, last_seq) << Str(*update);
    last_seq = seq;
    const json::value& data = update->at("data");
    ASSERT_TRUE(data.is_object()) << Str(*update);
    for (std::string_view side : {"bids", "asks"}) {
      const json::value* levels = data.as_object().if_contains(side);
      ASSERT_NE(levels, nullptr) << side << " missing: " << Str(data);
      ASSERT_TRUE(levels->is_array()) << Str(data);
      for (const json::value& level : levels->as_array()) {
        std::string why;
        ASSERT_TRUE(IsLevel(level, &why)) << side << ": " << why;
      }
    }
    // A generated book is not empty.
    EXPECT_FALSE(data.at("bids").as_array().empty() && data.at("asks").as_array().empty())
        << Str(data);
  }
  EXPECT_GT(received, 0) << "no AAPL book from the feed; feed output:\n" << feed->Output();
  std::printf("[ info ] AAPL subscriber received %d books\n", received);

  json::value stats = WaitForStat(gw->http_port(), "ingest.grpc_accepted", 100);
  EXPECT_EQ(FindInt(stats, "ingest.grpc_accepted"), 100) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ingest.grpc_rejected"), 0) << Str(stats);
}

// --batch=N: the same books over one PublishBatch stream, N per message, the
// last message shorter when --count is not a multiple of N.
TEST(FeedToolTest, BatchFlagPublishesOverPublishBatch) {
  OBGW_START_GATEWAY(gw, {});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "feed-batch-watcher")) << client.error();
  std::string error;
  ASSERT_TRUE(Subscribe(client, "AAPL", &error)) << error;

  // 100 books over 3 symbols: AAPL gets books 0, 3, ..., 99 (source_seq 1..34),
  // in 15 messages (14 of 7, then one of 2).
  constexpr int kCount = 100;
  constexpr std::int64_t kLastAaplSeq = 34;
  std::unique_ptr<Process> feed =
      Process::Spawn(BinDir() + "/orderbook-feed",
                     {"--target=" + gw->grpc_target(), "--symbols=3", "--rate=500",
                      "--count=" + std::to_string(kCount), "--batch=7"},
                     &error);
  ASSERT_NE(feed, nullptr) << error;
  std::optional<int> code = feed->WaitForExit(std::chrono::seconds(20));
  ASSERT_TRUE(code) << "orderbook-feed did not finish:\n" << feed->Output();
  EXPECT_EQ(*code, 0) << feed->Output();
  EXPECT_NE(feed->Output().find("PublishBatch of 7 books"), std::string::npos) << feed->Output();
  EXPECT_NE(feed->Output().find("server accepted 100, rejected 0"), std::string::npos)
      << feed->Output();

  // Books of a symbol arrive in order; conflation may skip some for a slow
  // reader, never the newest, so the last one always comes.
  int received = 0;
  std::int64_t last_source_seq = 0;
  while (last_source_seq < kLastAaplSeq) {
    std::optional<json::object> update = ReadUpdate(client, "AAPL", milliseconds(5000));
    ASSERT_TRUE(update) << "after " << received << " AAPL books (last source_seq "
                        << last_source_seq << "); feed output:\n"
                        << feed->Output();
    ++received;
    const json::value& data = update->at("data");
    ASSERT_TRUE(data.is_object()) << Str(*update);
    std::int64_t source_seq = FindInt(data, "source_seq").value_or(0);
    EXPECT_GT(source_seq, last_source_seq) << Str(*update);
    last_source_seq = source_seq;
    for (std::string_view side : {"bids", "asks"}) {
      const json::value* levels = data.as_object().if_contains(side);
      ASSERT_NE(levels, nullptr) << side << " missing: " << Str(data);
      ASSERT_EQ(levels->as_array().size(), 10u) << Str(data);
      for (const json::value& level : levels->as_array()) {
        std::string why;
        ASSERT_TRUE(IsLevel(level, &why)) << side << ": " << why;
      }
    }
  }
  EXPECT_EQ(last_source_seq, kLastAaplSeq);

  json::value stats = WaitForStat(gw->http_port(), "ingest.grpc_accepted", kCount);
  EXPECT_EQ(FindInt(stats, "ingest.grpc_accepted"), kCount) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ingest.grpc_rejected"), 0) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ingest.grpc_batches"), 15) << Str(stats);
}

}  // namespace
}  // namespace obgw::testing
