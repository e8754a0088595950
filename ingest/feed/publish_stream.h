#ifndef OBGW_INGEST_FEED_PUBLISH_STREAM_H_
#define OBGW_INGEST_FEED_PUBLISH_STREAM_H_

#include <cstddef>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "orderbook/v1/orderbook.grpc.pb.h"

namespace obgw::ingest {

// The two client streams of the ingest API as one shape, for the programs
// that publish over either (orderbook-feed, orderbook-loadgen): a Message is
// one book (Publish) or a batch of them (PublishBatch). Stateless; any thread.
template <typename Message>
struct PublishStream;

template <>
struct PublishStream<orderbook::v1::OrderBookUpdate> {
  static std::unique_ptr<grpc::ClientWriter<orderbook::v1::OrderBookUpdate>> Open(
      orderbook::v1::OrderBookIngest::Stub& stub, grpc::ClientContext* context,
      orderbook::v1::PublishSummary* summary) {
    return stub.Publish(context, summary);
  }
};

template <>
struct PublishStream<orderbook::v1::OrderBookBatch> {
  static std::unique_ptr<grpc::ClientWriter<orderbook::v1::OrderBookBatch>> Open(
      orderbook::v1::OrderBookIngest::Stub& stub, grpc::ClientContext* context,
      orderbook::v1::PublishSummary* summary) {
    return stub.PublishBatch(context, summary);
  }
};

// Book `i` of a message: the message itself, or the batch's update `i`
// (added on first use and reused after, so a stream that rewrites its books
// in place costs no allocation once it runs).
inline orderbook::v1::OrderBookUpdate* BookAt(orderbook::v1::OrderBookUpdate& message,
                                              std::size_t) {
  return &message;
}
inline orderbook::v1::OrderBookUpdate* BookAt(orderbook::v1::OrderBookBatch& message,
                                              std::size_t i) {
  while (static_cast<std::size_t>(message.updates_size()) <= i) message.add_updates();
  return message.mutable_updates(static_cast<int>(i));
}

// Keeps the first `books` books of a message (a shorter last batch).
inline void KeepBooks(orderbook::v1::OrderBookUpdate&, std::size_t) {}
inline void KeepBooks(orderbook::v1::OrderBookBatch& message, std::size_t books) {
  const int size = message.updates_size();
  if (static_cast<std::size_t>(size) > books) {
    message.mutable_updates()->DeleteSubrange(static_cast<int>(books),
                                              size - static_cast<int>(books));
  }
}

}  // namespace obgw::ingest

#endif  // OBGW_INGEST_FEED_PUBLISH_STREAM_H_
