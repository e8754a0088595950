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

PublishStreamWriter::PublishStreamWriter(const std::string& target,
                                         std::chrono::milliseconds timeout)
    : channel_(grpc::CreateChannel(target, grpc::InsecureChannelCredentials())),
      stub_(orderbook::v1::OrderBookIngest::NewStub(channel_)) {
  context_.set_deadline(std::chrono::system_clock::now() + timeout);
  writer_ = stub_->Publish(&context_, &result_.summary);
}

PublishStreamWriter::~PublishStreamWriter() {
  if (!finished_) Finish();
}

bool PublishStreamWriter::Write(const orderbook::v1::OrderBookUpdate& update) {
  if (finished_ || !writer_->Write(update)) return false;
  ++result_.written;
  return true;
}

PublishResult PublishStreamWriter::Finish() {
  if (!finished_) {
    finished_ = true;
    writer_->WritesDone();
    result_.status = writer_->Finish();
  }
  return result_;
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
