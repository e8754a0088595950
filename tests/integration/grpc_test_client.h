#ifndef OBGW_TESTS_INTEGRATION_GRPC_TEST_CLIENT_H_
#define OBGW_TESTS_INTEGRATION_GRPC_TEST_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "orderbook/v1/orderbook.grpc.pb.h"

namespace obgw::testing {

struct PublishResult {
  grpc::Status status;
  orderbook::v1::PublishSummary summary;
  // How many writes the stream accepted before it broke (== updates.size()
  // when all went through).
  std::size_t written = 0;
};

// Metadata sent with a call: (key, value) pairs, keys in lower case.
using GrpcMetadata = std::vector<std::pair<std::string, std::string>>;

// Opens one Publish stream to `target` ("127.0.0.1:<port>") with `metadata`,
// writes every update in order, half-closes and returns the summary.
PublishResult PublishStream(const std::string& target,
                            const std::vector<orderbook::v1::OrderBookUpdate>& updates,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30),
                            const GrpcMetadata& metadata = {});

// As PublishStream, on a PublishBatch stream: writes every batch in order.
PublishResult PublishBatchStream(const std::string& target,
                                 const std::vector<orderbook::v1::OrderBookBatch>& batches,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30),
                                 const GrpcMetadata& metadata = {});

// Cuts `updates` into batches of sizes[0], sizes[1], ... in order (the last
// size repeats until every update is in a batch; a 0 makes an empty batch).
std::vector<orderbook::v1::OrderBookBatch> SplitIntoBatches(
    const std::vector<orderbook::v1::OrderBookUpdate>& updates,
    const std::vector<std::size_t>& sizes);

// One open Publish stream, for tests that pace their writes or write from a
// thread of their own. Thread-compatible: use from one thread.
class PublishStreamWriter {
 public:
  explicit PublishStreamWriter(const std::string& target,
                               std::chrono::milliseconds timeout = std::chrono::seconds(60));
  PublishStreamWriter(const PublishStreamWriter&) = delete;
  PublishStreamWriter& operator=(const PublishStreamWriter&) = delete;
  ~PublishStreamWriter();

  // False once the stream is broken.
  bool Write(const orderbook::v1::OrderBookUpdate& update);
  // Half-closes and returns the summary (once).
  PublishResult Finish();

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<orderbook::v1::OrderBookIngest::Stub> stub_;
  grpc::ClientContext context_;
  PublishResult result_;
  std::unique_ptr<grpc::ClientWriter<orderbook::v1::OrderBookUpdate>> writer_;
  bool finished_ = false;
};

// A valid book: `levels` bids from 100 down and asks from 100.5 up, with
// source_seq set (0 leaves it unset).
orderbook::v1::OrderBookUpdate MakeUpdate(std::string_view symbol, std::uint64_t source_seq,
                                          int levels = 5);

}  // namespace obgw::testing

#endif  // OBGW_TESTS_INTEGRATION_GRPC_TEST_CLIENT_H_
