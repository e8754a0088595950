#ifndef OBGW_INGEST_PUBLISH_REACTOR_H_
#define OBGW_INGEST_PUBLISH_REACTOR_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/base/thread_annotations.h>
#include <grpcpp/grpcpp.h>
#include "gateway/fanout/mutex.h"

#if defined(__SANITIZE_THREAD__)
#define OBGW_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define OBGW_TSAN 1
#endif
#endif
#if OBGW_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#include "gateway/fanout/update_queue.h"
#include "ingest/ingest_stats.h"
#include "ingest/update_validator.h"
#include "orderbook/v1/orderbook.pb.h"

namespace obgw::ingest {

// Most rejection reasons one stream reports in its PublishSummary.
inline constexpr std::size_t kMaxSummaryErrors = 10;

// Serves one Publish stream (Request = OrderBookUpdate) or PublishBatch
// stream (Request = OrderBookBatch, whose books are handled in order as if
// written one by one to Publish) with the gRPC callback API: reads messages
// one at a time, validates each update, renders accepted ones once into a
// gateway::BookUpdate and enqueues them with the stream's own producer token
// (a batch's with one bulk enqueue), so one stream's updates reach the hub in
// the order they were written. Invalid updates are counted and the first
// kMaxSummaryErrors reasons kept; they never end the stream. When the client
// half-closes, answers with the PublishSummary.
//
// Owns: its producer token, the message being read, its counters and error
// strings, and (shared with a pending resume callback) its flow-control
// state. Created by IngestService::Publish or ::PublishBatch with `new`,
// deletes itself in OnDone. Runs on gRPC callback threads (one reaction at a
// time); the resume after a pause runs on the hub thread (or inline, if
// already drained).
//
// Flow control: when PushUpdate(s) reports the queue over its high-water mark,
// the reactor does not issue the next read, so HTTP/2 flow control pushes
// back on the backend; UpdateQueue::WhenDrained later resumes reading.
// Updates are numbered from 1 across the whole stream (batches included) in
// the summary's "update N (SYM): ..." errors.
//
// Event log (issue 13, gateway/logging): grpc_stream_opened and
// grpc_stream_closed (its summary) lines, and grpc_update_rejected for the
// first kMaxSummaryErrors rejections, each rate limited.
template <typename Request>
class StreamReactor final : public grpc::ServerReadReactor<Request> {
 public:
  // `queue` and `stats` must outlive the reactor (they outlive the server);
  // `summary` is the response object gRPC owns for this call.
  StreamReactor(gateway::UpdateQueue& queue, IngestStats& stats, const ValidationLimits& limits,
                orderbook::v1::PublishSummary* summary, std::string peer);

  StreamReactor(const StreamReactor&) = delete;
  StreamReactor& operator=(const StreamReactor&) = delete;

  void OnReadDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  // TSan only (see HandOff), for the end of a stream: gRPC's
  // Server::Wait returns only after every reactor's OnDone (and destructor)
  // has run, an order kept inside gRPC core. OnDone releases on `queue` once
  // the reactor (its producer token included) is gone; IngestServer calls this
  // after Wait, before the queue may be destroyed. Compiles away without TSan.
  static void AfterEveryStreamEnded(const gateway::UpdateQueue& queue) {
#if OBGW_TSAN
    __tsan_acquire(const_cast<gateway::UpdateQueue*>(&queue));
#endif
  }

 private:
  // Shared between the reactor and a resume callback registered with
  // UpdateQueue::WhenDrained. Why not AddHold()/RemoveHold(): gRPC 1.51 has
  // holds only on client reactors, not on ServerReadReactor. Why a
  // shared_ptr: the callback may outlive the reactor (it sits in the queue's
  // waiter list until the hub drains, possibly after the call was cancelled
  // and deleted, or never runs if the queue is destroyed first), so it must
  // not own or point at anything that goes away with the reactor unguarded.
  //
  // Invariant that makes the raw `reactor` pointer safe: while `paused` is
  // true the reactor has neither a read pending nor called Finish, and gRPC
  // runs OnDone only after Finish; so a callback that sees `paused` (and
  // clears it under the mutex) holds a live reactor. OnCancel, if it comes
  // while paused, clears `paused` and calls Finish itself, turning a later
  // resume into a no-op.
  struct FlowControl {
    gateway::Mutex mutex;
    // Set by the constructor before the flow is shared, constant after.
    StreamReactor* reactor = nullptr;
    bool paused ABSL_GUARDED_BY(mutex) = false;
    bool cancelled ABSL_GUARDED_BY(mutex) = false;
  };

  ~StreamReactor() override;

  // Validates and enqueues msg_'s update(s); returns true when the reactor
  // should pause.
  bool HandleMessage();
  // Validates one update (counting it either way) and renders it when valid;
  // moves the symbol out of `update`.
  std::optional<gateway::BookUpdate> AcceptUpdate(orderbook::v1::OrderBookUpdate& update);
  void RecordRejection(const absl::Status& status, const orderbook::v1::OrderBookUpdate& update);
  // Stops reading until the queue drains (or finishes if already cancelled).
  // `this` may be deleted by the time it returns.
  void Pause();
  void FinishWithSummary();
  // Called where one reaction ends (before StartRead or Finish hands the
  // call back to gRPC) and where the next begins. gRPC orders the reactions
  // of a call with its own synchronization, which ThreadSanitizer cannot see
  // in Debian's uninstrumented library; under TSan this states the same order
  // (a release then an acquire on this reactor); elsewhere it compiles away.
  void HandOff() {
#if OBGW_TSAN
    __tsan_release(this);
    __tsan_acquire(this);
#endif
  }

  gateway::UpdateQueue& queue_;
  IngestStats& stats_;
  const ValidationLimits limits_;
  orderbook::v1::PublishSummary* const summary_;
  const std::string peer_;
  gateway::UpdateQueue::Token token_;
  const std::shared_ptr<FlowControl> flow_;

  Request msg_;
  // A batch's accepted books, handed to PushUpdates at once (kept to reuse
  // its capacity; empty between messages).
  std::vector<gateway::HubMessage> pending_;
  std::uint64_t received_ = 0;
  std::uint64_t accepted_ = 0;
  std::uint64_t rejected_ = 0;
  std::vector<std::string> errors_;
  // For the grpc_stream_closed log line (issue 13): how long the stream
  // lasted and whether it ended with its summary ("ok") or was cancelled.
  const std::chrono::steady_clock::time_point opened_at_ = std::chrono::steady_clock::now();
  std::string_view end_ = "cancelled";
};

using PublishReactor = StreamReactor<orderbook::v1::OrderBookUpdate>;
using PublishBatchReactor = StreamReactor<orderbook::v1::OrderBookBatch>;

}  // namespace obgw::ingest

#endif  // OBGW_INGEST_PUBLISH_REACTOR_H_
