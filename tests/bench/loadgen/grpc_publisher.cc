// gRPC publishers: one stream (and channel, so one HTTP/2 connection) per
// thread, written flat out or at its share of the rate; Publish streams of
// one book per message, or PublishBatch streams of plan.batch_size books per
// OrderBookBatch.
#include <algorithm>
#include <memory>
#include <thread>
#include <type_traits>

#include <grpcpp/grpcpp.h>

#include "ingest/feed/book_generator.h"
#include "ingest/feed/publish_stream.h"
#include "ingest/feed/publish_token.h"
#include "latency_recorder.h"
#include "orderbook/v1/orderbook.grpc.pb.h"
#include "publisher.h"

namespace obgw::loadgen {
namespace {

using Clock = std::chrono::steady_clock;
using orderbook::v1::OrderBookBatch;
using orderbook::v1::OrderBookUpdate;

template <typename Message>
void RunStream(const PublishPlan& plan, PublishCounters& counters, std::size_t index,
               Clock::time_point start, Clock::time_point end) {
  grpc::ChannelArguments args;
  // A distinct channel per stream: separate connections, as separate
  // backends would have.
  args.SetInt("grpc.channel_id", static_cast<int>(index));
  auto channel = grpc::CreateCustomChannel(plan.host + ":" + std::to_string(plan.port),
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = orderbook::v1::OrderBookIngest::NewStub(channel);
  grpc::ClientContext context;
  ingest::AttachPublishToken(context, plan.publish_token);
  orderbook::v1::PublishSummary summary;
  auto writer = ingest::PublishStream<Message>::Open(*stub, &context, &summary);
  ingest::BookGenerator generator(plan.symbols, plan.levels, 2000 + index);
  const std::size_t per_message = std::is_same_v<Message, OrderBookBatch> ? plan.batch_size : 1;
  std::vector<std::uint64_t> written(plan.symbols, 0);
  std::vector<std::size_t> message_symbols(per_message);
  // Paced, a message is due every per_message books of this stream's share.
  auto interval = plan.rate > 0
                      ? std::chrono::duration<double>(
                            static_cast<double>(plan.publishers * per_message) / plan.rate)
                      : std::chrono::duration<double>(0);
  auto next_send = std::max(Clock::now(), start + FirstSendOffset(plan, index));
  if (interval.count() > 0) std::this_thread::sleep_until(next_send);
  Message message;
  for (std::size_t n = 0; Clock::now() < end;) {
    for (std::size_t i = 0; i < per_message; ++i, ++n) {
      message_symbols[i] = (index + n * plan.publishers) % plan.symbols;
      generator.NextInto(message_symbols[i], ingest::BookAt(message, i));
    }
    // The send time, as the Publish publisher stamps it: when the message
    // goes to gRPC (one clock read for the batch's books).
    const std::int64_t now_ns = NowNs();
    for (std::size_t i = 0; i < per_message; ++i)
      ingest::BookAt(message, i)->set_send_time_ns(now_ns);
    // Flat out, gRPC may batch writes (buffer_hint), as a backend streaming
    // a busy feed would; paced, each message goes out at once.
    grpc::WriteOptions options;
    if (interval.count() == 0) options.set_buffer_hint();
    if (!writer->Write(message, options)) break;
    for (std::size_t i = 0; i < per_message; ++i) ++written[message_symbols[i]];
    if (interval.count() > 0) {
      next_send += std::chrono::duration_cast<Clock::duration>(interval);
      std::this_thread::sleep_until(next_send);
    }
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) {
    counters.errors.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // The loadgen's books are all valid: the summary confirms what was written.
  counters.accepted.fetch_add(summary.accepted(), std::memory_order_relaxed);
  counters.rejected.fetch_add(summary.rejected(), std::memory_order_relaxed);
  for (std::size_t s = 0; s < plan.symbols; ++s) {
    counters.accepted_per_symbol[s].fetch_add(written[s], std::memory_order_relaxed);
  }
}

}  // namespace

void PublishGrpc(const PublishPlan& plan, PublishCounters& counters) {
  auto start = Clock::now();
  auto end = start + std::chrono::duration_cast<Clock::duration>(plan.duration);
  std::vector<std::thread> streams;
  for (std::size_t i = 0; i < plan.publishers; ++i) {
    if (plan.batch_size > 0) {
      streams.emplace_back(RunStream<OrderBookBatch>, std::cref(plan), std::ref(counters), i, start,
                           end);
    } else {
      streams.emplace_back(RunStream<OrderBookUpdate>, std::cref(plan), std::ref(counters), i,
                           start, end);
    }
  }
  for (auto& stream : streams) stream.join();
}

}  // namespace obgw::loadgen
