#ifndef OBGW_GATEWAY_FANOUT_HUB_H_
#define OBGW_GATEWAY_FANOUT_HUB_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/container/node_hash_map.h>

#include "gateway/fanout/broker.h"
#include "gateway/fanout/frame.h"
#include "gateway/fanout/subscriber_counts.h"
#include "gateway/fanout/thread_affinity.h"
#include "gateway/fanout/update_frame.h"
#include "gateway/fanout/update_queue.h"
#include "gateway/metrics/gateway_stats.h"

namespace obgw::gateway {

// The sequencer between producers and I/O shards. Runs on its own thread,
// scheduled SCHED_BATCH (WaitForTurnWhenWoken in hub.cc says why).
//
// Owns all per-symbol state: the position of the last book, the book itself
// (the snapshot a new subscriber gets first) and how many subscribers each
// shard has (a symbol's entry stays once seen, so its seq never restarts; its
// memory is one book per symbol ever published).
// For each book it has the Broker assign the position (seq and epoch), tells
// the Broker which symbols this node follows, renders the client frame once, and
// hands it to every shard with subscribers, batched: one hand-off per shard
// per bulk dequeue, never one per subscriber. Subscription changes pass
// through the same queue, so a subscription is live (counted) before its
// confirmation is sent, and every book dequeued after it reaches the new
// subscriber. A change is applied only once every book enqueued before it
// (by any producer) is routed (SubscriptionChange::books_before; until then it
// waits, with every change behind it, in deferred_changes_): a REST publish is
// answered at enqueue, and the subscriber who subscribes after that answer
// gets that book or a newer one as its snapshot. Each symbol's subscription
// count is also published in `counts` (read by the REST shim on any thread),
// before the change is confirmed.
//
// Bounded: at most kMaxDeliveriesInFlight deliveries (frame x subscriber
// on that shard) per shard are handed over and not yet queued by the shard
// (it reports each batch with BatchDelivered), about 0.1 s of fan-out work.
// While a shard is that far behind, its next batch waits in the hub and keeps only
// the newest book of each symbol (hub_conflated), so a fan-out slower than
// the ingest costs staleness, never unbounded memory or latency.
//
// Cheap when behind: while another full batch already waits in the queue or a
// shard is backlogged, a batch renders only the newest routed book of each
// symbol, once, when it is handed over (hub_conflated_in_batch counts the books
// never rendered). Every book is still sequenced in order (seq strictly
// increases per symbol, the snapshot is always the last book), so the hub
// drains the queue at the cost of a hash lookup per book and the books wait
// here, where the newest one wins, not in the queue or the gRPC socket. When
// not behind, every book is rendered and delivered.
class Hub {
 public:
  // Hands a batch of frames to shard `shard`; called on the hub thread, must
  // not block (it posts to the shard's io_context). The shard calls
  // BatchDelivered(shard, deliveries) once it has queued the frames.
  using Dispatch = std::function<void(std::uint32_t shard, std::vector<FramePtr> frames,
                                      std::size_t deliveries)>;

  // `broker` sequences the books; it and `counts` must outlive the hub.
  // `counts` null: subscription counts are not published (nothing answers
  // REST from them: the hub tests and benchmarks).
  Hub(UpdateQueue& queue, std::uint32_t shard_count, Broker& broker, Dispatch dispatch,
      HubStats& stats, SubscriberCounts* counts = nullptr);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  static constexpr std::size_t kMaxDeliveriesInFlight = 16384;
  // Messages taken per bulk dequeue: large enough to amortize the hand-off to
  // the shards under load, small enough to keep the first book's delay short.
  // A batch is behind when at least this many more wait after it.
  static constexpr std::size_t kBatchSize = 512;

  void Start();
  // Processes what is already queued, then stops and joins the thread.
  void Stop();

  // One loop iteration: dequeue up to a batch, route it, dispatch. Returns
  // the number of messages processed. Public so tests can drive the hub
  // without its thread.
  std::size_t RunOnce(std::chrono::microseconds wait);

  // Whether the caller is the hub's thread (debug checks).
  bool InThisThread() const { return affinity_.InThisThread(); }

  // Any thread (the shard): one batch of `shard` has been delivered.
  void BatchDelivered(std::uint32_t shard, std::size_t deliveries) {
    in_flight_[shard]->fetch_sub(deliveries, std::memory_order_release);
  }

 private:
  struct SymbolState {
    StreamPosition position;  // Of the last book routed (offset 0: none yet).
    // Books of this symbol accepted on this node (the last local_order
    // given), and the highest local_order routed.
    std::uint64_t accepted = 0;
    std::uint64_t routed_local_order = 0;
    std::uint32_t subscribers = 0;
    std::vector<std::uint32_t> per_shard;
    // The book at `position` (empty before the first) and when the hub routed it.
    std::string last_data;
    std::chrono::system_clock::time_point last_time;
    // Its snapshot frame, rendered at the first subscribe after it and shared
    // by every later one (a reconnect storm renders it once).
    FramePtr snapshot;
    // While the batch is behind: whether the book at `position` still has to
    // be rendered for the subscribers (it is in deferred_books_), when it arrived,
    // and what the frame must say that a replaced book of the batch would have
    // said ("snapshot":true / "epoch").
    bool deferred = false;
    bool deferred_first_snapshot = false;
    bool deferred_new_epoch = false;
    std::int64_t deferred_received_ns = 0;
  };
  using SymbolEntry = std::pair<const std::string, SymbolState>;

  void Route(BookUpdate& update);
  // Renders the symbol's book at `state.position` (with `data`) and queues it
  // for every shard with subscribers.
  void Emit(const std::string& symbol, SymbolState& state, std::string_view data,
            bool first_snapshot, bool new_epoch, std::int64_t received_ns);
  // Renders the newest book of every symbol deferred in this batch.
  void FlushDeferred();
  // A book not routed (stale or superseded): answered with no subscriber.
  static void Drop(BookUpdate& update, Counter& counter);
  // A change dequeued: applied now, or deferred behind the books enqueued
  // before it (and behind every change already deferred, so one session's
  // changes keep their order).
  void Admit(SubscriptionChange& change);
  // A book with `ticket` has been routed (or dropped); applies the deferred
  // changes that waited for it.
  void CountRouted(std::uint64_t ticket);
  void ApplyDeferred(bool force);
  void Apply(SubscriptionChange& change);
  FramePtr Snapshot(const std::string& symbol, SymbolState& state);
  // Hands each shard its pending batch, unless the shard is backlogged (and
  // `force` is false).
  void DispatchPending(bool force);
  bool Backlogged(std::uint32_t shard) const {
    return in_flight_[shard]->load(std::memory_order_acquire) >= kMaxDeliveriesInFlight;
  }
  // `deliveries`: the symbol's subscribers on that shard.
  void AddPending(std::uint32_t shard, const FramePtr& frame, std::size_t deliveries);

  UpdateQueue& queue_;
  const std::uint32_t shard_count_;
  Broker& broker_;
  Dispatch dispatch_;
  HubStats& stats_;
  SubscriberCounts* const counts_;
  // Every book ticket below routed_below_ has been routed; the tickets above
  // it routed already (another producer's books came first) wait here.
  std::uint64_t routed_below_ = 0;
  std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<>> routed_ahead_;
  std::deque<SubscriptionChange> deferred_changes_;
  // Node-based: deferred_books_ points into it while the batch inserts symbols.
  absl::node_hash_map<std::string, SymbolState> symbols_;
  // This batch is behind (see the class comment): books are deferred.
  bool behind_ = false;
  std::vector<SymbolEntry*>
      deferred_books_;  // Symbols with a deferred book, in first-routed order.
  std::vector<std::vector<FramePtr>> pending_;  // Per shard, this batch.
  // Per shard, while backlogged: symbol -> its book's index in pending_.
  std::vector<absl::flat_hash_map<std::string, std::size_t>> pending_index_;
  std::vector<std::size_t> pending_deliveries_;                       // Per shard, of pending_.
  std::vector<std::unique_ptr<std::atomic<std::size_t>>> in_flight_;  // Per shard.
  std::vector<HubMessage> batch_;
  IsoClock clock_;
  IsoClock snapshot_clock_;
  std::atomic<bool> stopping_{false};
  ThreadAffinity affinity_;
  std::thread thread_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_FANOUT_HUB_H_
