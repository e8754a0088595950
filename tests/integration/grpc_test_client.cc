#include "grpc_test_client.h"

#include <algorithm>
#include <memory>

namespace obgw::testing {

namespace {

// Writes every message of `messages` in order on `writer`, half-closes and
// fills `result`: shared by Publish and PublishBatch streams.
template <typename Message>
void WriteAllAndFinish(grpc::ClientWriter<Message>& writer, const std::vector<Message>& messages,
                       PublishResult& result) {
  for (const Message& message : messages) {
    if (!writer.Write(message)) break;
    ++result.written;
  }
  writer.WritesDone();
  result.status = writer.Finish();
}

// Opens the client stream `open` names on a fresh channel to `target`, writes
// `messages` and finishes: the one body of both Publish and PublishBatch.
template <typename Message, typename Open>
PublishResult Publish(const std::string& target, const std::vector<Message>& messages,
                      std::chrono::milliseconds timeout, const GrpcMetadata& metadata, Open open) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto stub = orderbook::v1::OrderBookIngest::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  PublishResult result;
  WriteAllAndFinish(*((*stub).*open)(&context, &result.summary), messages, result);
  return result;
}

}  // namespace

PublishResult PublishStream(const std::string& target,
                            const std::vector<orderbook::v1::OrderBookUpdate>& updates,
                            std::chrono::milliseconds timeout, const GrpcMetadata& metadata) {
  return Publish(target, updates, timeout, metadata,
                 &orderbook::v1::OrderBookIngest::Stub::Publish);
}

PublishResult PublishBatchStream(const std::string& target,
                                 const std::vector<orderbook::v1::OrderBookBatch>& batches,
                                 std::chrono::milliseconds timeout, const GrpcMetadata& metadata) {
  return Publish(target, batches, timeout, metadata,
                 &orderbook::v1::OrderBookIngest::Stub::PublishBatch);
}

std::vector<orderbook::v1::OrderBookBatch> SplitIntoBatches(
    const std::vector<orderbook::v1::OrderBookUpdate>& updates,
    const std::vector<std::size_t>& sizes) {
  std::vector<orderbook::v1::OrderBookBatch> batches;
  std::size_t next = 0;
  for (std::size_t i = 0; !sizes.empty() && (i < sizes.size() || next < updates.size()); ++i) {
    const std::size_t size = sizes[std::min(i, sizes.size() - 1)];
    if (i >= sizes.size() && size == 0) break;  // A repeated 0 would never end.
    orderbook::v1::OrderBookBatch& batch = batches.emplace_back();
    for (std::size_t n = 0; n < size && next < updates.size(); ++n) {
      *batch.add_updates() = updates[next++];
    }
  }
  return batches;
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
