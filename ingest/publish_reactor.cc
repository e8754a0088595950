#include "ingest/publish_reactor.h"

#include <chrono>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/fanout/book_update.h"
#include "gateway/logging/event_log.h"
#include "ingest/book_renderer.h"
#include "ingest/printable.h"
#include "spdlog/spdlog.h"

namespace obgw::ingest {
namespace {

// How much of a (possibly hostile) symbol an error message quotes.
constexpr std::size_t kErrorSymbolBytes = 32;

// The gRPC method a reactor serves, for the log.
template <typename Request>
constexpr std::string_view kMethod =
    std::is_same_v<Request, orderbook::v1::OrderBookBatch> ? "PublishBatch" : "Publish";

std::int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

template <typename Request>
StreamReactor<Request>::StreamReactor(gateway::UpdateQueue& queue, IngestStats& stats,
                                      const ValidationLimits& limits,
                                      orderbook::v1::PublishSummary* summary, std::string peer)
    : queue_(queue),
      stats_(stats),
      limits_(limits),
      summary_(summary),
      peer_(std::move(peer)),
      token_(queue.MakeToken()),
      flow_(std::make_shared<FlowControl>()) {
  flow_->reactor = this;
  stats_.streams_open.fetch_add(1, std::memory_order_relaxed);
  stats_.streams_total.fetch_add(1, std::memory_order_relaxed);
  gateway::LogEvent(gateway::LogKind::grpc_stream, spdlog::level::info, "grpc_stream_opened",
                    [this](gateway::LogFields& line) {
                      line.Add("peer", peer_).Add("method", kMethod<Request>);
                    });
  HandOff();
  this->StartRead(&msg_);
}

template <typename Request>
StreamReactor<Request>::~StreamReactor() = default;

template <typename Request>
void StreamReactor<Request>::OnReadDone(bool ok) {
  HandOff();
  if (!ok) {
    // No more messages: the client half-closed (answer it) or the call was
    // cancelled (the answer goes nowhere, but Finish is still required).
    FinishWithSummary();
    return;
  }
  if (HandleMessage()) {
    Pause();
    return;
  }
  // Nothing may touch members after this: the next OnReadDone can run on
  // another thread as soon as the read completes.
  HandOff();
  this->StartRead(&msg_);
}

template <typename Request>
bool StreamReactor<Request>::HandleMessage() {
  if constexpr (std::is_same_v<Request, orderbook::v1::OrderBookBatch>) {
    stats_.batches.fetch_add(1, std::memory_order_relaxed);
    for (orderbook::v1::OrderBookUpdate& book : *msg_.mutable_updates()) {
      if (std::optional<gateway::BookUpdate> update = AcceptUpdate(book)) {
        pending_.emplace_back(std::move(*update));
      }
    }
    // An empty (or wholly rejected) batch enqueues nothing; keep reading.
    if (pending_.empty()) return false;
    return queue_.PushUpdates(token_, pending_);
  } else {
    std::optional<gateway::BookUpdate> update = AcceptUpdate(msg_);
    return update && queue_.PushUpdate(token_, std::move(*update));
  }
}

template <typename Request>
std::optional<gateway::BookUpdate> StreamReactor<Request>::AcceptUpdate(
    orderbook::v1::OrderBookUpdate& book) {
  ++received_;
  if (absl::Status status = ValidateUpdate(book, limits_); !status.ok()) {
    RecordRejection(status, book);
    return std::nullopt;
  }
  ++accepted_;
  stats_.accepted.fetch_add(1, std::memory_order_relaxed);
  gateway::BookUpdate update;
  update.data = RenderBookData(book);
  // The message is reused by the next read; its symbol can be moved out now.
  update.symbol = std::move(*book.mutable_symbol());
  update.received_ns = SteadyNowNs();
  return update;
}

template <typename Request>
void StreamReactor<Request>::RecordRejection(const absl::Status& status,
                                             const orderbook::v1::OrderBookUpdate& update) {
  ++rejected_;
  stats_.rejected.fetch_add(1, std::memory_order_relaxed);
  if (errors_.size() >= kMaxSummaryErrors) return;
  errors_.push_back(absl::StrCat("update ", received_, " (",
                                 PrintableExcerpt(update.symbol(), kErrorSymbolBytes),
                                 "): ", status.message()));
  gateway::LogEvent(
      gateway::LogKind::grpc_rejected, spdlog::level::warn, "grpc_update_rejected",
      [this](gateway::LogFields& line) {
        line.Add("peer", peer_).Add("method", kMethod<Request>).Add("error", errors_.back());
      });
}

template <typename Request>
void StreamReactor<Request>::Pause() {
  // Once `paused` is set and the mutex released, OnCancel may Finish the call
  // and OnDone delete `this` at any moment: take what is needed afterwards
  // into locals first.
  HandOff();
  gateway::UpdateQueue& queue = queue_;
  std::shared_ptr<FlowControl> flow = flow_;
  bool cancelled;
  {
    gateway::MutexLock lock(flow->mutex);
    cancelled = flow->cancelled;
    if (!cancelled) {
      stats_.paused.fetch_add(1, std::memory_order_relaxed);
      // Set only while no read is pending and Finish has not been called.
      flow->paused = true;
    }
  }
  if (cancelled) {
    // OnCancel already ran while our read was in flight, so it left the
    // Finish to us; pausing now would leave a dead call waiting on the hub.
    HandOff();
    this->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled"));
    return;
  }
  // May run the callback inline (already drained), hence outside the mutex.
  queue.WhenDrained([flow = std::move(flow)] {
    StreamReactor* reactor;
    {
      gateway::MutexLock lock(flow->mutex);
      if (!flow->paused) return;  // Cancelled meanwhile; OnCancel finished it.
      flow->paused = false;
      reactor = flow->reactor;
    }
    // Alive: paused implied no Finish, hence no OnDone (see FlowControl).
    reactor->HandOff();
    reactor->StartRead(&reactor->msg_);
  });
}

template <typename Request>
void StreamReactor<Request>::OnCancel() {
  HandOff();
  bool finish_now;
  {
    gateway::MutexLock lock(flow_->mutex);
    flow_->cancelled = true;
    // Paused means no read is pending, so no failed read will come to
    // finish the call: finish it here, and disarm the resume callback.
    finish_now = flow_->paused;
    flow_->paused = false;
  }
  if (finish_now) this->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled"));
}

template <typename Request>
void StreamReactor<Request>::FinishWithSummary() {
  summary_->set_accepted(accepted_);
  summary_->set_rejected(rejected_);
  // Copied: the grpc_stream_closed line quotes the first.
  for (const std::string& error : errors_) summary_->add_errors(error);
  end_ = "ok";
  HandOff();
  this->Finish(grpc::Status::OK);
}

template <typename Request>
void StreamReactor<Request>::OnDone() {
  HandOff();
  gateway::LogEvent(gateway::LogKind::grpc_stream, spdlog::level::info, "grpc_stream_closed",
                    [this](gateway::LogFields& line) {
                      line.Add("peer", peer_)
                          .Add("method", kMethod<Request>)
                          .Add("status", end_)
                          .Add("accepted", accepted_)
                          .Add("rejected", rejected_)
                          .AddMillis("duration_ms", std::chrono::steady_clock::now() - opened_at_);
                      if (!errors_.empty()) line.Add("first_error", errors_.front());
                    });
  stats_.streams_open.fetch_sub(1, std::memory_order_relaxed);
  gateway::UpdateQueue& queue = queue_;
  delete this;
#if OBGW_TSAN
  // See AfterEveryStreamEnded: the reactor and its producer token are gone.
  __tsan_release(&queue);
#else
  (void)queue;
#endif
}

template class StreamReactor<orderbook::v1::OrderBookUpdate>;
template class StreamReactor<orderbook::v1::OrderBookBatch>;

}  // namespace obgw::ingest
