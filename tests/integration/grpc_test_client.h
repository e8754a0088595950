#ifndef OBGW_TESTS_INTEGRATION_GRPC_TEST_CLIENT_H_
#define OBGW_TESTS_INTEGRATION_GRPC_TEST_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
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

// Opens one Publish stream to `target` ("127.0.0.1:<port>"), writes every
// update in order, half-closes and returns the summary.
PublishResult PublishStream(const std::string& target,
                            const std::vector<orderbook::v1::OrderBookUpdate>& updates,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A valid book: `levels` bids from 100 down and asks from 100.5 up, with
// source_seq set (0 leaves it unset).
orderbook::v1::OrderBookUpdate MakeUpdate(std::string_view symbol, std::uint64_t source_seq,
                                          int levels = 5);

}  // namespace obgw::testing

#endif  // OBGW_TESTS_INTEGRATION_GRPC_TEST_CLIENT_H_
