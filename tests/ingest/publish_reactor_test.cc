// The ingest service end to end, in-process: a real IngestServer on a
// loopback port, a real UpdateQueue drained by the test thread (standing in
// for the hub), and the generated sync stub as the backend.

#include "ingest/publish_reactor.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "ingest/ingest_service.h"
#include "orderbook/v1/orderbook.grpc.pb.h"

namespace obgw::ingest {
namespace {

using namespace std::chrono_literals;
using orderbook::v1::OrderBookUpdate;
using orderbook::v1::PublishSummary;

constexpr auto kTimeout = 10s;

// Polls `condition` until it holds or kTimeout passes.
bool WaitFor(const std::function<bool()>& condition) {
  const auto give_up = std::chrono::steady_clock::now() + kTimeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

OrderBookUpdate ValidUpdate(const std::string& symbol, std::uint64_t seq) {
  OrderBookUpdate update;
  update.set_symbol(symbol);
  for (int i = 0; i < 3; ++i) {
    auto* bid = update.add_bids();
    bid->set_price(100.0 - 0.01 * i);
    bid->set_volume(100.0 * (i + 1));
    bid->set_orders(static_cast<std::uint32_t>(i + 1));
    auto* ask = update.add_asks();
    ask->set_price(100.01 + 0.01 * i);
    ask->set_volume(200.0 * (i + 1));
    ask->set_orders(static_cast<std::uint32_t>(i + 2));
  }
  update.set_source_seq(seq);
  return update;
}

// A server, its queue and stats, and a stub connected to it.
class IngestHarness {
 public:
  explicit IngestHarness(std::size_t high_water,
                         int receive_window_bytes = kDefaultReceiveWindowBytes,
                         std::shared_ptr<const gateway::PublishTokens> publish_tokens = nullptr)
      : queue_(high_water),
        server_(queue_, stats_, ValidationLimits{}, receive_window_bytes,
                std::move(publish_tokens)) {
    absl::StatusOr<int> port = server_.Start("127.0.0.1", 0);
    EXPECT_TRUE(port.ok()) << port.status();
    port_ = port.value_or(0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                   grpc::InsecureChannelCredentials());
    stub_ = orderbook::v1::OrderBookIngest::NewStub(channel_);
  }

  // What the hub does: one bulk pop, then AfterPop (which may resume paused
  // streams on this thread). Book updates are appended to `books`.
  std::size_t DrainOnce(std::vector<gateway::BookUpdate>& books) {
    gateway::HubMessage messages[64];
    const std::size_t popped = queue_.PopBulk(messages, 64, 10ms);
    for (std::size_t i = 0; i < popped; ++i) {
      if (auto* book = std::get_if<gateway::BookUpdate>(&messages[i])) {
        books.push_back(std::move(*book));
      }
    }
    queue_.AfterPop();
    return popped;
  }

  // Drains like the hub until `books` holds `count` books or `timeout`
  // passes; `after_each` runs after every drain (a check on the queue).
  void DrainUntil(std::vector<gateway::BookUpdate>& books, std::size_t count,
                  std::chrono::milliseconds timeout, const std::function<void()>& after_each = {}) {
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    while (books.size() < count && std::chrono::steady_clock::now() < give_up) {
      DrainOnce(books);
      if (after_each) after_each();
    }
  }

  gateway::UpdateQueue& queue() { return queue_; }
  IngestStats& stats() { return stats_; }
  IngestServer& server() { return server_; }
  orderbook::v1::OrderBookIngest::Stub& stub() { return *stub_; }
  int port() const { return port_; }

 private:
  gateway::UpdateQueue queue_;
  IngestStats stats_;
  IngestServer server_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<orderbook::v1::OrderBookIngest::Stub> stub_;
};

std::uint64_t SourceSeqOf(const gateway::BookUpdate& book) {
  return boost::json::parse(book.data).as_object().at("source_seq").to_number<std::uint64_t>();
}

TEST(PublishReactorTest, StreamsInOrderThroughFlowControl) {
  constexpr std::uint64_t kUpdates = 1000;
  constexpr std::size_t kHighWater = 8;
  IngestHarness harness(kHighWater);

  PublishSummary summary;
  grpc::Status status;
  std::thread backend([&] {
    grpc::ClientContext context;
    auto writer = harness.stub().Publish(&context, &summary);
    for (std::uint64_t seq = 1; seq <= kUpdates; ++seq) {
      if (!writer->Write(ValidUpdate("AAPL", seq))) break;
    }
    writer->WritesDone();
    status = writer->Finish();
  });

  // Nobody drains yet: the stream must stop reading at the high-water mark
  // instead of filling the queue.
  ASSERT_TRUE(WaitFor([&] { return harness.stats().paused.load() >= 1; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(harness.queue().Depth(), kHighWater);
  EXPECT_EQ(harness.stats().accepted.load(), kHighWater);
  EXPECT_EQ(harness.stats().streams_open.load(), 1u);

  // Now drain like the hub; paused reads resume from AfterPop.
  std::vector<gateway::BookUpdate> books;
  harness.DrainUntil(books, kUpdates, kTimeout,
                     [&] { EXPECT_LE(harness.queue().Depth(), kHighWater); });
  backend.join();

  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summary.accepted(), kUpdates);
  EXPECT_EQ(summary.rejected(), 0u);
  EXPECT_EQ(summary.errors_size(), 0);
  ASSERT_EQ(books.size(), kUpdates);
  for (std::size_t i = 0; i < books.size(); ++i) {
    ASSERT_EQ(books[i].symbol, "AAPL");
    ASSERT_EQ(SourceSeqOf(books[i]), i + 1) << "out of order at " << i;
    ASSERT_GT(books[i].received_ns, 0);
    ASSERT_FALSE(books[i].on_routed);
  }
  EXPECT_GE(harness.stats().paused.load(), 1u);
  EXPECT_EQ(harness.stats().accepted.load(), kUpdates);
  EXPECT_TRUE(WaitFor([&] { return harness.stats().streams_open.load() == 0; }));
  EXPECT_EQ(harness.stats().streams_total.load(), 1u);
}

// A batch is enqueued whole; the stream pauses after the batch that reaches
// the high-water mark, as Publish does after that update.
TEST(PublishReactorTest, BatchesStreamInOrderThroughFlowControl) {
  constexpr std::uint64_t kBatches = 200;
  constexpr std::uint64_t kBatchSize = 5;
  constexpr std::size_t kHighWater = 8;
  IngestHarness harness(kHighWater);

  PublishSummary summary;
  grpc::Status status;
  std::thread backend([&] {
    grpc::ClientContext context;
    auto writer = harness.stub().PublishBatch(&context, &summary);
    std::uint64_t seq = 0;
    for (std::uint64_t b = 0; b < kBatches; ++b) {
      orderbook::v1::OrderBookBatch batch;
      for (std::uint64_t i = 0; i < kBatchSize; ++i)
        *batch.add_updates() = ValidUpdate("AAPL", ++seq);
      if (!writer->Write(batch)) break;
    }
    writer->WritesDone();
    status = writer->Finish();
  });

  // Two batches: 5 books (below the mark), then 10 (at or over it): pause.
  ASSERT_TRUE(WaitFor([&] { return harness.stats().paused.load() >= 1; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(harness.queue().Depth(), 2 * kBatchSize);
  EXPECT_EQ(harness.stats().batches.load(), 2u);

  std::vector<gateway::BookUpdate> books;
  harness.DrainUntil(books, kBatches * kBatchSize, kTimeout);
  backend.join();

  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summary.accepted(), kBatches * kBatchSize);
  EXPECT_EQ(summary.rejected(), 0u);
  ASSERT_EQ(books.size(), kBatches * kBatchSize);
  for (std::size_t i = 0; i < books.size(); ++i) {
    ASSERT_EQ(SourceSeqOf(books[i]), i + 1) << "out of order at " << i;
  }
  EXPECT_EQ(harness.stats().batches.load(), kBatches);
  EXPECT_TRUE(WaitFor([&] { return harness.stats().streams_open.load() == 0; }));
}

TEST(PublishReactorTest, InvalidUpdatesAreCountedAndReportedWithoutEndingTheStream) {
  IngestHarness harness(/*high_water=*/1000);
  grpc::ClientContext context;
  PublishSummary summary;
  auto writer = harness.stub().Publish(&context, &summary);

  // 30 updates: odd ones valid, even ones invalid in various ways.
  std::uint64_t valid = 0;
  for (std::uint64_t n = 1; n <= 30; ++n) {
    OrderBookUpdate update = ValidUpdate("AAPL", n);
    if (n % 2 == 0) {
      switch (n % 6) {
        case 0:
          update.mutable_bids(0)->set_price(std::numeric_limits<double>::quiet_NaN());
          break;
        case 2:
          update.set_symbol("A B\n\"x");
          break;
        case 4:
          update.mutable_asks(1)->set_volume(-1);
          break;
      }
    } else {
      ++valid;
    }
    ASSERT_TRUE(writer->Write(update));
  }
  // A valid update after the rejections still gets through.
  ASSERT_TRUE(writer->Write(ValidUpdate("MSFT", 31)));
  ++valid;
  ASSERT_TRUE(writer->WritesDone());
  const grpc::Status status = writer->Finish();

  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summary.accepted(), valid);
  EXPECT_EQ(summary.rejected(), 15u);
  ASSERT_EQ(summary.errors_size(), 10);
  EXPECT_EQ(summary.errors(0),
            "update 2 (A B\\n\\\"x): symbol \"A B\\n\\\"x\" is invalid: 1-32 characters of "
            "[A-Za-z0-9._:-]");
  EXPECT_EQ(summary.errors(1), "update 4 (AAPL): asks[1].volume is negative");
  EXPECT_EQ(summary.errors(2), "update 6 (AAPL): bids[0].price is not finite");
  EXPECT_EQ(summary.errors(4), "update 10 (AAPL): asks[1].volume is negative");
  EXPECT_EQ(summary.errors(9),
            "update 20 (A B\\n\\\"x): symbol \"A B\\n\\\"x\" is invalid: 1-32 characters of "
            "[A-Za-z0-9._:-]");
  EXPECT_EQ(harness.stats().rejected.load(), 15u);

  std::vector<gateway::BookUpdate> books;
  while (harness.DrainOnce(books) > 0) {
  }
  ASSERT_EQ(books.size(), valid);
  EXPECT_EQ(books.back().symbol, "MSFT");
  EXPECT_EQ(SourceSeqOf(books.back()), 31u);
}

TEST(PublishReactorTest, LongHostileSymbolIsTruncatedInTheSummary) {
  IngestHarness harness(/*high_water=*/100);
  grpc::ClientContext context;
  PublishSummary summary;
  auto writer = harness.stub().Publish(&context, &summary);
  ASSERT_TRUE(writer->Write(ValidUpdate(std::string(10000, '\x01'), 1)));
  ASSERT_TRUE(writer->WritesDone());
  ASSERT_TRUE(writer->Finish().ok());
  ASSERT_EQ(summary.errors_size(), 1);
  const std::string& error = summary.errors(0);
  EXPECT_EQ(error.rfind("update 1 (\\x01\\x01", 0), 0u) << error;
  EXPECT_LT(error.size(), 500u);
}

// The race the FlowControl state exists for: the call is cancelled while
// the reactor is paused (no read pending), so only OnCancel can finish it;
// later the queue drains and the stale resume callback must do nothing.
TEST(PublishReactorTest, CancelWhilePausedFinishesTheCallAndDisarmsTheResume) {
  constexpr std::size_t kHighWater = 8;
  IngestHarness harness(kHighWater);
  {
    grpc::ClientContext context;
    PublishSummary summary;
    auto writer = harness.stub().Publish(&context, &summary);
    // Small messages: all fit the HTTP/2 window, so no Write blocks.
    for (std::uint64_t seq = 1; seq <= 20; ++seq)
      ASSERT_TRUE(writer->Write(ValidUpdate("AAPL", seq)));
    ASSERT_TRUE(WaitFor([&] { return harness.stats().paused.load() == 1; }));
    EXPECT_EQ(harness.stats().accepted.load(), kHighWater);

    context.TryCancel();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // OnDone ran (the reactor is gone) although nothing drained the queue.
  ASSERT_TRUE(WaitFor([&] { return harness.stats().streams_open.load() == 0; }));

  // Draining now runs the registered resume on this thread: a no-op.
  std::vector<gateway::BookUpdate> books;
  while (harness.DrainOnce(books) > 0) {
  }
  EXPECT_EQ(books.size(), kHighWater);
  EXPECT_EQ(harness.stats().accepted.load(), kHighWater);

  // The server still serves new streams.
  grpc::ClientContext context;
  PublishSummary summary;
  auto writer = harness.stub().Publish(&context, &summary);
  ASSERT_TRUE(writer->Write(ValidUpdate("MSFT", 1)));
  ASSERT_TRUE(writer->WritesDone());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(summary.accepted(), 1u);
  EXPECT_EQ(harness.stats().streams_total.load(), 2u);
}

// Shutdown must not hang on a stream paused by a hub that no longer drains:
// at the deadline gRPC cancels it, and OnCancel finishes it.
TEST(PublishReactorTest, ShutdownEndsPausedStreams) {
  IngestHarness harness(/*high_water=*/4);
  grpc::ClientContext context;
  PublishSummary summary;
  auto writer = harness.stub().Publish(&context, &summary);
  for (std::uint64_t seq = 1; seq <= 10; ++seq)
    ASSERT_TRUE(writer->Write(ValidUpdate("AAPL", seq)));
  ASSERT_TRUE(WaitFor([&] { return harness.stats().paused.load() == 1; }));

  const auto start = std::chrono::steady_clock::now();
  harness.server().Shutdown(200ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(harness.stats().streams_open.load(), 0u);
  EXPECT_FALSE(writer->Finish().ok());
  // The resume callback is still registered; running it must be harmless.
  std::vector<gateway::BookUpdate> books;
  while (harness.DrainOnce(books) > 0) {
  }
  EXPECT_EQ(books.size(), 4u);
}

TEST(IngestServerTest, BusyPortIsAnErrorWithAReason) {
  IngestHarness harness(/*high_water=*/8);
  ASSERT_GT(harness.port(), 0);
  gateway::UpdateQueue queue(8);
  IngestStats stats;
  IngestServer second(queue, stats, ValidationLimits{});
  absl::StatusOr<int> port = second.Start("127.0.0.1", harness.port());
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.status().message(),
            "cannot listen for gRPC on 127.0.0.1:" + std::to_string(harness.port()));
}

TEST(IngestServerTest, ReceiveWindowTurnsBdpProbingOffAndBoundsTheLookahead) {
  using Arguments = std::vector<std::pair<std::string, int>>;
  EXPECT_EQ(
      ReceiveWindowArguments(16384),
      (Arguments{{GRPC_ARG_HTTP2_BDP_PROBE, 0}, {GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16384}}));
  EXPECT_EQ(ReceiveWindowArguments(kDefaultReceiveWindowBytes),
            (Arguments{{GRPC_ARG_HTTP2_BDP_PROBE, 0},
                       {GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, kDefaultReceiveWindowBytes}}));
  EXPECT_TRUE(ReceiveWindowArguments(0).empty());  // gRPC's defaults.
}

TEST(IngestServerTest, StreamLargerThanASmallReceiveWindowArrivesWhole) {
  // 16 KiB window, ~40x as many bytes written: the stream waits on the window
  // (and on the queue's high-water mark) and still delivers every book in order.
  IngestHarness harness(/*high_water=*/64, /*receive_window_bytes=*/16384);
  constexpr std::uint64_t kBooks = 4000;
  grpc::ClientContext context;
  PublishSummary summary;
  std::unique_ptr<grpc::ClientWriter<OrderBookUpdate>> writer =
      harness.stub().Publish(&context, &summary);
  std::thread publisher([&] {
    for (std::uint64_t i = 1; i <= kBooks; ++i) {
      if (!writer->Write(ValidUpdate("AAPL", i))) break;
    }
    writer->WritesDone();
  });
  std::vector<gateway::BookUpdate> books;
  harness.DrainUntil(books, kBooks, kTimeout);
  publisher.join();
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(summary.accepted(), kBooks);
  ASSERT_EQ(books.size(), kBooks);
  for (std::uint64_t i = 0; i < kBooks; ++i) ASSERT_EQ(SourceSeqOf(books[i]), i + 1);
}

TEST(IngestServerTest, InvalidAddressIsAnError) {
  gateway::UpdateQueue queue(8);
  IngestStats stats;
  IngestServer server(queue, stats, ValidationLimits{});
  absl::StatusOr<int> port = server.Start("256.1.1.1", 0);
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.status().message(), "cannot listen for gRPC on 256.1.1.1:0");
}

// --publish_tokens on the gRPC side: both RPCs need `authorization: Bearer`
// with one of the tokens; otherwise UNAUTHENTICATED before any book is read.
class PublishTokenTest : public ::testing::Test {
 protected:
  static constexpr const char* kFirst = "first-token-0123456789";
  static constexpr const char* kSecond = "second-token-0123456789";

  static std::shared_ptr<const gateway::PublishTokens> Tokens() {
    auto tokens = gateway::PublishTokens::Create({kFirst, kSecond});
    EXPECT_TRUE(tokens.ok()) << tokens.status();
    return std::make_shared<const gateway::PublishTokens>(*std::move(tokens));
  }

  // One Publish (or PublishBatch) call of one book with these
  // `authorization` values; its status.
  grpc::Status Publish(const std::vector<std::string>& authorizations, bool batch,
                       std::uint64_t seq) {
    grpc::ClientContext context;
    for (const std::string& value : authorizations) context.AddMetadata("authorization", value);
    PublishSummary summary;
    if (batch) {
      auto writer = harness_.stub().PublishBatch(&context, &summary);
      orderbook::v1::OrderBookBatch message;
      *message.add_updates() = ValidUpdate("AAPL", seq);
      writer->Write(message);
      writer->WritesDone();
      return writer->Finish();
    }
    auto writer = harness_.stub().Publish(&context, &summary);
    writer->Write(ValidUpdate("AAPL", seq));
    writer->WritesDone();
    return writer->Finish();
  }

  IngestHarness harness_{64, kDefaultReceiveWindowBytes, Tokens()};
};

TEST_F(PublishTokenTest, NoOrWrongTokenIsUnauthenticatedOnBothRpcs) {
  const std::vector<std::vector<std::string>> refused = {
      {},
      {"Bearer wrong-token-0123456789"},
      {std::string("Basic ") + kFirst},
      {std::string("Bearer ") + kFirst, std::string("Bearer ") + kSecond},
  };
  std::uint64_t calls = 0;
  for (bool batch : {false, true}) {
    for (const auto& authorizations : refused) {
      grpc::Status status = Publish(authorizations, batch, ++calls);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << batch << " " << status.error_message();
      EXPECT_NE(status.error_message().find("publish token"), std::string::npos);
      EXPECT_EQ(status.error_message().find("token-0123456789"), std::string::npos);
    }
  }
  EXPECT_EQ(harness_.stats().unauthenticated.load(), calls);
  EXPECT_EQ(harness_.stats().accepted.load(), 0u);
  EXPECT_EQ(harness_.stats().streams_total.load(), 0u) << "no stream was served";
  EXPECT_EQ(harness_.queue().Depth(), 0u);
}

TEST_F(PublishTokenTest, EitherTokenPublishesOnBothRpcs) {
  std::uint64_t seq = 0;
  for (bool batch : {false, true}) {
    for (const char* token : {kFirst, kSecond}) {
      grpc::Status status = Publish({std::string("Bearer ") + token}, batch, ++seq);
      EXPECT_TRUE(status.ok()) << status.error_message();
    }
  }
  std::vector<gateway::BookUpdate> books;
  harness_.DrainUntil(books, seq, kTimeout);
  ASSERT_EQ(books.size(), seq);
  // Each call is its own producer: the queue keeps no order between them.
  std::vector<std::uint64_t> seqs;
  for (const gateway::BookUpdate& book : books) seqs.push_back(SourceSeqOf(book));
  std::sort(seqs.begin(), seqs.end());
  for (std::uint64_t i = 0; i < seq; ++i) EXPECT_EQ(seqs[i], i + 1);
  EXPECT_EQ(harness_.stats().unauthenticated.load(), 0u);
}

}  // namespace
}  // namespace obgw::ingest
