// gRPC ingest end to end: a backend streams books, WebSocket clients get them
// in order, invalid updates are counted and reported, never fatal.

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "grpc_test_client.h"
#include "http_test_client.h"
#include "test_util.h"
#include "ws_test_client.h"

namespace obgw::testing {
namespace {

namespace json = boost::json;
using orderbook::v1::OrderBookBatch;
using orderbook::v1::OrderBookUpdate;
using std::chrono::milliseconds;

double Num(const json::value& v) { return v.to_number<double>(); }

struct Received {
  int count = 0;
  std::int64_t last_seq = 0;
  std::int64_t last_source_seq = 0;
  std::string failure;
};

// Reads AAPL updates until source_seq `last` arrives, checking that seq and
// source_seq strictly increase.
Received ReadUntilSourceSeq(WsTestClient& client, std::int64_t last,
                            milliseconds timeout = std::chrono::seconds(8)) {
  Received r;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (r.last_source_seq != last) {
    auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.failure = "timed out after " + std::to_string(r.count) + " updates, last source_seq " +
                  std::to_string(r.last_source_seq);
      return r;
    }
    std::optional<json::object> update = ReadUpdate(client, "AAPL", left);
    if (!update) {
      r.failure =
          "no update after source_seq " + std::to_string(r.last_source_seq) + ": " + client.error();
      return r;
    }
    std::optional<std::int64_t> seq = FindInt(*update, "seq");
    std::optional<std::int64_t> source_seq = FindInt(*update, "data.source_seq");
    if (!seq || !source_seq) {
      r.failure = "update without seq or data.source_seq: " + Str(*update);
      return r;
    }
    if (*seq <= r.last_seq || *source_seq <= r.last_source_seq) {
      r.failure = "out of order: seq " + std::to_string(*seq) + " after " +
                  std::to_string(r.last_seq) + ", source_seq " + std::to_string(*source_seq) +
                  " after " + std::to_string(r.last_source_seq);
      return r;
    }
    r.last_seq = *seq;
    r.last_source_seq = *source_seq;
    ++r.count;
  }
  return r;
}

TEST(GrpcStreamTest, ThousandUpdatesReachEverySubscriberInOrder) {
  OBGW_START_GATEWAY(gw, {});
  std::vector<std::unique_ptr<WsTestClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<WsTestClient>());
    ASSERT_TRUE(clients.back()->Connect(gw->http_port(), "grpc-" + std::to_string(i)))
        << clients.back()->error();
    std::string error;
    ASSERT_TRUE(Subscribe(*clients.back(), "AAPL", &error)) << error;
  }

  std::vector<OrderBookUpdate> updates;
  for (int i = 1; i <= 1000; ++i) updates.push_back(MakeUpdate("AAPL", i));
  PublishResult result = PublishStream(gw->grpc_target(), updates);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.written, 1000u);
  EXPECT_EQ(result.summary.accepted(), 1000u);
  EXPECT_EQ(result.summary.rejected(), 0u);
  EXPECT_EQ(result.summary.errors_size(), 0);

  for (size_t i = 0; i < clients.size(); ++i) {
    Received r = ReadUntilSourceSeq(*clients[i], 1000);
    EXPECT_TRUE(r.failure.empty()) << "client " << i << ": " << r.failure;
    EXPECT_EQ(r.last_source_seq, 1000) << "client " << i;
    std::printf("[ info ] client %zu received %d of 1000 updates (rest conflated)\n", i, r.count);
  }
  json::value stats = WaitForStat(gw->http_port(), "ingest.grpc_accepted", 1000);
  EXPECT_EQ(FindInt(stats, "ingest.grpc_accepted"), 1000) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ingest.grpc_rejected"), 0) << Str(stats);
}

TEST(GrpcStreamTest, BookIsRenderedAsLevelTriples) {
  OBGW_START_GATEWAY(gw, {});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "triples")) << client.error();
  std::string error;
  ASSERT_TRUE(Subscribe(client, "HK.00700", &error)) << error;

  OrderBookUpdate full;
  full.set_symbol("HK.00700");
  auto* bid = full.add_bids();
  bid->set_price(320.2);
  bid->set_volume(1500);
  bid->set_orders(7);
  bid = full.add_bids();
  bid->set_price(320.0);
  bid->set_volume(0.5);
  bid->set_orders(0);
  auto* ask = full.add_asks();
  ask->set_price(320.4);
  ask->set_volume(200);
  ask->set_orders(2);
  full.set_timestamp("2024-01-01T12:00:00Z");
  full.set_source_time_ns(1704110400123456789);
  full.set_send_time_ns(1704110400223456789);
  full.set_source_seq(42);

  OrderBookUpdate bare;  // No optional fields: only bids and asks.
  bare.set_symbol("HK.00700");
  ask = bare.add_asks();
  ask->set_price(321);
  ask->set_volume(10);
  ask->set_orders(1);

  PublishResult result = PublishStream(gw->grpc_target(), {full, bare});
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.summary.accepted(), 2u);

  std::optional<json::object> update = ReadUpdate(client, "HK.00700");
  ASSERT_TRUE(update) << client.error();
  EXPECT_EQ(FindInt(*update, "seq"), 1) << Str(*update);
  const json::value& data = update->at("data");
  ASSERT_TRUE(data.is_object()) << Str(*update);
  const json::array& bids = data.at("bids").as_array();
  ASSERT_EQ(bids.size(), 2u) << Str(data);
  ASSERT_EQ(bids[0].as_array().size(), 3u) << Str(data);
  EXPECT_DOUBLE_EQ(Num(bids[0].at(0)), 320.2);
  EXPECT_DOUBLE_EQ(Num(bids[0].at(1)), 1500);
  EXPECT_EQ(FindInt(bids[0].at(2), ""), 7) << Str(data);
  EXPECT_DOUBLE_EQ(Num(bids[1].at(0)), 320.0);
  EXPECT_DOUBLE_EQ(Num(bids[1].at(1)), 0.5);
  EXPECT_EQ(FindInt(bids[1].at(2), ""), 0) << Str(data);
  const json::array& asks = data.at("asks").as_array();
  ASSERT_EQ(asks.size(), 1u) << Str(data);
  EXPECT_DOUBLE_EQ(Num(asks[0].at(0)), 320.4);
  EXPECT_DOUBLE_EQ(Num(asks[0].at(1)), 200);
  EXPECT_EQ(FindInt(asks[0].at(2), ""), 2) << Str(data);
  EXPECT_EQ(data.at("timestamp"), "2024-01-01T12:00:00Z") << Str(data);
  EXPECT_EQ(FindInt(data, "source_time_ns"), 1704110400123456789) << Str(data);
  EXPECT_EQ(FindInt(data, "send_time_ns"), 1704110400223456789) << Str(data);
  EXPECT_EQ(FindInt(data, "source_seq"), 42) << Str(data);

  update = ReadUpdate(client, "HK.00700");
  ASSERT_TRUE(update) << client.error();
  EXPECT_EQ(FindInt(*update, "seq"), 2) << Str(*update);
  const json::object& bare_data = update->at("data").as_object();
  EXPECT_EQ(bare_data.size(), 2u) << "unset optional fields must be absent: " << Str(bare_data);
  EXPECT_TRUE(bare_data.at("bids").as_array().empty()) << Str(bare_data);
  EXPECT_EQ(bare_data.at("asks").as_array().size(), 1u) << Str(bare_data);
}

TEST(GrpcStreamTest, InvalidUpdatesAreCountedNotFatal) {
  OBGW_START_GATEWAY(gw, {});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "mixed")) << client.error();
  std::string error;
  ASSERT_TRUE(Subscribe(client, "AAPL", &error)) << error;

  std::vector<OrderBookUpdate> updates;
  updates.push_back(MakeUpdate("AAPL", 1));
  updates.push_back(MakeUpdate("A B", 101));  // Bad symbol.
  OrderBookUpdate nan_price = MakeUpdate("AAPL", 102);
  nan_price.mutable_bids(0)->set_price(std::numeric_limits<double>::quiet_NaN());
  updates.push_back(nan_price);
  updates.push_back(MakeUpdate("AAPL", 2));
  OrderBookUpdate negative_volume = MakeUpdate("AAPL", 103);
  negative_volume.mutable_asks(1)->set_volume(-1);
  updates.push_back(negative_volume);
  updates.push_back(MakeUpdate("AAPL", 104, 1001));  // Too many levels.
  updates.push_back(MakeUpdate("", 105));            // Empty symbol.
  updates.push_back(MakeUpdate("AAPL", 3));

  PublishResult result = PublishStream(gw->grpc_target(), updates);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.summary.accepted(), 3u);
  EXPECT_EQ(result.summary.rejected(), 5u);
  ASSERT_EQ(result.summary.errors_size(), 5);
  for (const std::string& reason : result.summary.errors()) EXPECT_FALSE(reason.empty());

  // The valid ones arrive in order and nothing invalid slips through.
  Received r = ReadUntilSourceSeq(client, 3);
  EXPECT_TRUE(r.failure.empty()) << r.failure;
  EXPECT_FALSE(client.Read(milliseconds(200))) << "an invalid update was delivered";

  json::value stats = WaitForStat(gw->http_port(), "ingest.grpc_rejected", 5);
  EXPECT_EQ(FindInt(stats, "ingest.grpc_accepted"), 3) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ingest.grpc_rejected"), 5) << Str(stats);
}

TEST(GrpcStreamTest, SummaryKeepsAtMostTenErrors) {
  OBGW_START_GATEWAY(gw, {});
  std::vector<OrderBookUpdate> updates;
  for (int i = 0; i < 15; ++i) updates.push_back(MakeUpdate("bad symbol", i + 1));
  updates.push_back(MakeUpdate("AAPL", 1));
  PublishResult result = PublishStream(gw->grpc_target(), updates);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.summary.accepted(), 1u);
  EXPECT_EQ(result.summary.rejected(), 15u);
  EXPECT_EQ(result.summary.errors_size(), 10);
}

TEST(GrpcStreamTest, RestAndGrpcShareOneSequence) {
  OBGW_START_GATEWAY(gw, {});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "shared-seq")) << client.error();
  std::string error;
  ASSERT_TRUE(Subscribe(client, "AAPL", &error)) << error;
  PublishResult result = PublishStream(gw->grpc_target(), {MakeUpdate("AAPL", 1)});
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  std::optional<json::object> update = ReadUpdate(client, "AAPL");
  ASSERT_TRUE(update) << client.error();
  EXPECT_EQ(FindInt(*update, "seq"), 1) << Str(*update);
  ASSERT_EQ(PostBook(gw->http_port(), "AAPL", R"({"bids":[],"asks":[]})").status, 200);
  update = ReadUpdate(client, "AAPL");
  ASSERT_TRUE(update) << client.error();
  EXPECT_EQ(FindInt(*update, "seq"), 2) << Str(*update);
}

// The updates of InvalidUpdatesAreCountedNotFatal and SummaryKeepsAtMostTenErrors,
// in one stream: accepted, rejected, and more than ten errors.
std::vector<OrderBookUpdate> MixedUpdates() {
  std::vector<OrderBookUpdate> updates;
  updates.push_back(MakeUpdate("AAPL", 1));
  updates.push_back(MakeUpdate("A B", 101));
  OrderBookUpdate nan_price = MakeUpdate("AAPL", 102);
  nan_price.mutable_bids(0)->set_price(std::numeric_limits<double>::quiet_NaN());
  updates.push_back(nan_price);
  updates.push_back(MakeUpdate("AAPL", 2));
  updates.push_back(MakeUpdate("AAPL", 104, 1001));
  updates.push_back(MakeUpdate("", 105));
  for (int i = 0; i < 8; ++i) updates.push_back(MakeUpdate("bad symbol", 200 + i));
  updates.push_back(MakeUpdate("AAPL", 3));
  return updates;
}

TEST(GrpcStreamTest, PublishBatchAcceptsRejectsAndReportsExactlyAsPublish) {
  OBGW_START_GATEWAY(gw, {});
  const std::vector<OrderBookUpdate> updates = MixedUpdates();
  PublishResult single = PublishStream(gw->grpc_target(), updates);
  ASSERT_TRUE(single.status.ok()) << single.status.error_message();
  ASSERT_EQ(single.summary.accepted(), 3u);
  ASSERT_EQ(single.summary.rejected(), 12u);
  ASSERT_EQ(single.summary.errors_size(), 10);

  // Uneven batches, an empty one among them: the numbering of "update N"
  // runs across batches, so every string matches Publish's.
  const std::vector<OrderBookBatch> batches = SplitIntoBatches(updates, {2, 0, 3, 1, 4});
  PublishResult batched = PublishBatchStream(gw->grpc_target(), batches);
  ASSERT_TRUE(batched.status.ok()) << batched.status.error_message();
  EXPECT_EQ(batched.written, batches.size());
  EXPECT_EQ(batched.summary.accepted(), single.summary.accepted());
  EXPECT_EQ(batched.summary.rejected(), single.summary.rejected());
  ASSERT_EQ(batched.summary.errors_size(), single.summary.errors_size());
  for (int i = 0; i < single.summary.errors_size(); ++i) {
    EXPECT_EQ(batched.summary.errors(i), single.summary.errors(i)) << "error " << i;
  }
  EXPECT_EQ(batched.summary.errors(1).rfind("update 3 (AAPL): ", 0), 0u)
      << batched.summary.errors(1);

  json::value stats = WaitForStat(gw->http_port(), "ingest.grpc_batches",
                                  static_cast<std::int64_t>(batches.size()));
  EXPECT_EQ(FindInt(stats, "ingest.grpc_accepted"), 6) << Str(stats);
  EXPECT_EQ(FindInt(stats, "ingest.grpc_rejected"), 24) << Str(stats);
}

TEST(GrpcStreamTest, PublishBatchBooksReachSubscriberInOrder) {
  OBGW_START_GATEWAY(gw, {});
  WsTestClient client;
  ASSERT_TRUE(client.Connect(gw->http_port(), "batch")) << client.error();
  std::string error;
  ASSERT_TRUE(Subscribe(client, "AAPL", &error)) << error;

  std::vector<OrderBookUpdate> updates;
  for (int i = 1; i <= 500; ++i) updates.push_back(MakeUpdate("AAPL", i));
  const std::vector<OrderBookBatch> batches = SplitIntoBatches(updates, {0, 1, 7});
  PublishResult result = PublishBatchStream(gw->grpc_target(), batches);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.summary.accepted(), 500u);
  EXPECT_EQ(result.summary.rejected(), 0u);

  // seq and source_seq strictly increase up to the last book.
  Received r = ReadUntilSourceSeq(client, 500);
  EXPECT_TRUE(r.failure.empty()) << r.failure;
  EXPECT_EQ(r.last_source_seq, 500);
}

TEST(GrpcStreamTest, PublishBatchOfOnlyEmptyBatchesIsFine) {
  OBGW_START_GATEWAY(gw, {});
  PublishResult result =
      PublishBatchStream(gw->grpc_target(), {OrderBookBatch(), OrderBookBatch()});
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.written, 2u);
  EXPECT_EQ(result.summary.accepted(), 0u);
  EXPECT_EQ(result.summary.rejected(), 0u);
  EXPECT_EQ(result.summary.errors_size(), 0);
}

}  // namespace
}  // namespace obgw::testing
