#include "grpc_test_client.h"

#include <memory>

namespace obgw::testing {

PublishResult PublishStream(const std::string& target,
                            const std::vector<orderbook::v1::OrderBookUpdate>& updates,
                            std::chrono::milliseconds timeout) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto stub = orderbook::v1::OrderBookIngest::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  PublishResult result;
  std::unique_ptr<grpc::ClientWriter<orderbook::v1::OrderBookUpdate>> writer =
      stub->Publish(&context, &result.summary);
  for (const auto& update : updates) {
    if (!writer->Write(update)) break;
    ++result.written;
  }
  writer->WritesDone();
  result.status = writer->Finish();
  return result;
}

orderbook::v1::OrderBookUpdate MakeUpdate(std::string_view symbol, std::uint64_t source_seq,
                                          int levels) {
  orderbook::v1::OrderBookUpdate update;
  update.set_symbol(std::string(symbol));
  for (int i = 0; i < levels; ++i) {
    auto* bid = update.add_bids();
    bid->set_price(100.0 - 0.25 * i);
    bid->set_volume(100.0 * (i + 1));
    bid->set_orders(static_cast<std::uint32_t>(i + 1));
    auto* ask = update.add_asks();
    ask->set_price(100.5 + 0.25 * i);
    ask->set_volume(50.0 * (i + 1));
    ask->set_orders(static_cast<std::uint32_t>(i + 2));
  }
  if (source_seq != 0) update.set_source_seq(source_seq);
  return update;
}

}  // namespace obgw::testing
