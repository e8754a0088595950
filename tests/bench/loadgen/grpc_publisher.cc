// gRPC Publish publishers: one stream (and channel, so one HTTP/2
// connection) per thread, written flat out or at its share of the rate.
#include <algorithm>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "ingest/feed/book_generator.h"
#include "latency_recorder.h"
#include "orderbook/v1/orderbook.grpc.pb.h"
#include "publisher.h"

namespace obgw::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

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
  orderbook::v1::PublishSummary summary;
  auto writer = stub->Publish(&context, &summary);
  ingest::BookGenerator generator(plan.symbols, plan.levels, 2000 + index);
  std::vector<std::uint64_t> written(plan.symbols, 0);
  auto interval = plan.rate > 0 ? std::chrono::duration<double>(plan.publishers / plan.rate)
                                : std::chrono::duration<double>(0);
  auto next_send = std::max(Clock::now(), start + FirstSendOffset(plan, index));
  if (interval.count() > 0) std::this_thread::sleep_until(next_send);
  for (std::size_t n = 0; Clock::now() < end; ++n) {
    std::size_t symbol = (index + n * plan.publishers) % plan.symbols;
    auto book = generator.Next(symbol);
    book.set_send_time_ns(NowNs());
    // Flat out, gRPC may batch writes (buffer_hint), as a backend streaming
    // a busy feed would; paced, each book goes out at once.
    grpc::WriteOptions options;
    if (interval.count() == 0) options.set_buffer_hint();
    if (!writer->Write(book, options)) break;
    ++written[symbol];
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
    streams.emplace_back(RunStream, std::cref(plan), std::ref(counters), i, start, end);
  }
  for (auto& stream : streams) stream.join();
}

}  // namespace obgw::loadgen
