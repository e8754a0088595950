#include "gateway/fanout/hub.h"

#include <sched.h>

#include <cassert>

#include <algorithm>

#include <spdlog/spdlog.h>

namespace obgw::gateway {
namespace {

// Makes the calling thread one that, when woken, waits for its turn instead
// of preempting the thread running on its core (Linux SCHED_BATCH: same
// priority and share of the CPU as any other thread, no privilege needed).
// Why the hub runs so: every producer that queues a book wakes it. Sharing a
// core with an I/O shard, the default policy switches to the hub at each
// wakeup, so it routes a book or two per batch and every subscriber gets a
// frame or two per write. Waiting for its turn, it takes what every publisher
// queued meanwhile in one batch, and the shard writes those books to each
// connection at once (docs/performance.md, "Per-core fan-out"). On an idle
// core it still runs at once. False when the kernel refused.
bool WaitForTurnWhenWoken() {
  sched_param param{};
  return sched_setscheduler(0, SCHED_BATCH, &param) == 0;
}

}  // namespace

Hub::Hub(UpdateQueue& queue, std::uint32_t shard_count, Broker& broker, Dispatch dispatch,
         HubStats& stats, SubscriberCounts* counts)
    : queue_(queue),
      shard_count_(shard_count),
      broker_(broker),
      dispatch_(std::move(dispatch)),
      stats_(stats),
      counts_(counts),
      pending_(shard_count),
      pending_index_(shard_count),
      pending_deliveries_(shard_count, 0),
      batch_(kBatchSize) {
  for (std::uint32_t i = 0; i < shard_count; ++i) {
    in_flight_.push_back(std::make_unique<std::atomic<std::size_t>>(0));
  }
}

Hub::~Hub() { Stop(); }

void Hub::Start() {
  thread_ = std::thread([this] {
    affinity_.BindToThisThread();
    if (!WaitForTurnWhenWoken()) {
      spdlog::warn("hub: SCHED_BATCH refused; batches may stay small on a shared core");
    }
    while (!stopping_.load(std::memory_order_acquire)) RunOnce(std::chrono::milliseconds(10));
    // Drain what producers queued before the stop, so no accepted book is lost.
    while (RunOnce(std::chrono::microseconds(0)) > 0) {
    }
    // A change can wait only for a book still being enqueued: none is now.
    ApplyDeferred(true);
  });
}

void Hub::Stop() {
  stopping_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
  affinity_.Unbind();
}

std::size_t Hub::RunOnce(std::chrono::microseconds wait) {
  assert(InThisThread());
  bool deferred = false;
  for (const auto& frames : pending_) deferred |= !frames.empty();
  // A batch waiting for a backlogged shard is retried soon, new books or not.
  if (deferred) wait = std::min(wait, std::chrono::microseconds(200));
  std::size_t count = queue_.PopBulk(batch_.data(), batch_.size(), wait);
  queue_.AfterPop();
  if (count == 0) {
    if (deferred) DispatchPending(false);
    return 0;
  }
  stats_.batches.fetch_add(1, std::memory_order_relaxed);
  // Behind: another full batch already waits, or a shard cannot take more.
  behind_ = queue_.Depth() >= kBatchSize;
  for (std::uint32_t shard = 0; shard < shard_count_ && !behind_; ++shard) {
    behind_ = Backlogged(shard);
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (auto* update = std::get_if<BookUpdate>(&batch_[i])) {
      Route(*update);
      CountRouted(update->ticket);
    } else {
      Admit(std::get<SubscriptionChange>(batch_[i]));
    }
    batch_[i] = HubMessage();  // Release the payload now, not at the next dequeue.
  }
  FlushDeferred();
  behind_ = false;
  DispatchPending(false);
  return count;
}

void Hub::Route(BookUpdate& update) {
  auto [it, inserted] = symbols_.try_emplace(update.symbol);
  SymbolState& state = it->second;
  if (inserted) state.per_shard.assign(shard_count_, 0);
  // A book ordered elsewhere in the cluster arrives with its position; one
  // accepted here may go out to be ordered and come back through the queue
  // (position set, or zero with a retry when the cluster could not order it).
  if (update.position.offset == 0) {
    if (update.retries == 0) {
      update.local_order = ++state.accepted;
    } else if (update.local_order < state.routed_local_order) {
      return Drop(update, stats_.superseded);
    }
    if (!broker_.Sequence(update, state.position)) return;
  } else if (update.position.epoch == state.position.epoch &&
             update.position.offset <= state.position.offset) {
    return Drop(update, stats_.stale_dropped);  // A duplicate, or older than what clients have.
  } else if (update.local_order != 0 && update.local_order < state.routed_local_order) {
    return Drop(update, stats_.superseded);
  }
  // A sequence that may have restarted: the book itself says so.
  bool new_epoch = state.position.offset != 0 && update.position.epoch != state.position.epoch;
  // The cluster's stored book of a symbol this node had none of: every
  // subscriber subscribed without a snapshot, so this is theirs.
  bool first_snapshot = update.stored && state.position.offset == 0;
  state.position = update.position;
  state.routed_local_order = std::max(state.routed_local_order, update.local_order);
  state.last_time = std::chrono::system_clock::now();
  if (state.subscribers > 0 && behind_) {
    // Rendered at the end of the batch from state.last_data, unless a newer
    // book of the symbol replaces it first.
    if (state.deferred) {
      stats_.conflated_in_batch.fetch_add(1, std::memory_order_relaxed);
    } else {
      state.deferred = true;
      deferred_books_.push_back(&*it);
    }
    state.deferred_first_snapshot |= first_snapshot;
    state.deferred_new_epoch |= new_epoch;
    state.deferred_received_ns = update.received_ns;
  } else if (state.subscribers > 0) {
    Emit(update.symbol, state, update.data, first_snapshot, new_epoch, update.received_ns);
  }
  // Kept (moved, not copied) for the next subscriber's snapshot.
  state.last_data = std::move(update.data);
  state.snapshot.reset();
  stats_.updates_routed.fetch_add(1, std::memory_order_relaxed);
  if (update.received_ns > 0) {
    std::int64_t waited = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::steady_clock::now().time_since_epoch())
                              .count() -
                          update.received_ns;
    stats_.queue_delay.Observe(static_cast<std::uint64_t>(std::max<std::int64_t>(waited, 0)));
  }
  if (update.on_routed) update.on_routed(state.subscribers);
}

void Hub::Emit(const std::string& symbol, SymbolState& state, std::string_view data,
               bool first_snapshot, bool new_epoch, std::int64_t received_ns) {
  FramePtr frame = RenderUpdateFrame(
      symbol, state.position.offset, clock_.Format(state.last_time), data,
      first_snapshot ? R"(,"snapshot":true,"epoch":)" + std::to_string(state.position.epoch)
      : new_epoch    ? R"(,"epoch":)" + std::to_string(state.position.epoch)
                     : std::string(),
      received_ns);
  for (std::uint32_t shard = 0; shard < shard_count_; ++shard) {
    if (state.per_shard[shard] > 0) AddPending(shard, frame, state.per_shard[shard]);
  }
}

void Hub::FlushDeferred() {
  for (SymbolEntry* entry : deferred_books_) {
    SymbolState& state = entry->second;
    // Subscriber counts only change in Apply, which flushes first: the book's
    // subscribers are still those it was routed to.
    Emit(entry->first, state, state.last_data, state.deferred_first_snapshot,
         state.deferred_new_epoch, state.deferred_received_ns);
    state.deferred = state.deferred_first_snapshot = state.deferred_new_epoch = false;
  }
  deferred_books_.clear();
}

void Hub::Drop(BookUpdate& update, Counter& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
  if (update.on_routed) update.on_routed(0);
}

void Hub::Admit(SubscriptionChange& change) {
  if (deferred_changes_.empty() && change.books_before <= routed_below_) return Apply(change);
  deferred_changes_.push_back(std::move(change));
}

void Hub::CountRouted(std::uint64_t ticket) {
  if (ticket != routed_below_) {
    routed_ahead_.push(ticket);
    return;
  }
  ++routed_below_;
  while (!routed_ahead_.empty() && routed_ahead_.top() == routed_below_) {
    routed_ahead_.pop();
    ++routed_below_;
  }
  if (!deferred_changes_.empty()) ApplyDeferred(false);
}

void Hub::ApplyDeferred(bool force) {
  while (!deferred_changes_.empty() &&
         (force || deferred_changes_.front().books_before <= routed_below_)) {
    Apply(deferred_changes_.front());
    deferred_changes_.pop_front();
  }
}

void Hub::Apply(SubscriptionChange& change) {
  // Books already routed in this batch go to the shards first, so a new
  // subscriber sees only books dequeued after its subscription.
  // (Backlogged or not: changes are rare.)
  FlushDeferred();
  DispatchPending(true);
  auto [it, inserted] = symbols_.try_emplace(change.symbol);
  SymbolState& state = it->second;
  if (inserted) state.per_shard.assign(shard_count_, 0);
  if (change.shard >= shard_count_) {
    spdlog::error("hub: subscription change from unknown shard {}", change.shard);
    return;
  }
  std::uint32_t& on_shard = state.per_shard[change.shard];
  FramePtr snapshot;
  if (change.delta > 0) {
    snapshot = Snapshot(change.symbol, state);
    if (state.subscribers == 0) {
      stats_.symbols.fetch_add(1, std::memory_order_relaxed);
      broker_.Follow(change.symbol);
    }
    ++on_shard;
    ++state.subscribers;
  } else if (change.delta < 0 && on_shard > 0) {
    --on_shard;
    --state.subscribers;
    if (state.subscribers == 0) {
      stats_.symbols.fetch_sub(1, std::memory_order_relaxed);
      broker_.Unfollow(change.symbol);
    }
  }
  if (counts_ != nullptr && change.delta != 0) counts_->Set(change.symbol, state.subscribers);
  if (change.on_applied) change.on_applied(std::move(snapshot));
}

FramePtr Hub::Snapshot(const std::string& symbol, SymbolState& state) {
  if (state.position.offset == 0) return nullptr;  // Nothing published yet.
  if (!state.snapshot) {
    // The book's own epoch: a cluster's sequence may restart under a running hub.
    state.snapshot = RenderUpdateFrame(
        symbol, state.position.offset, snapshot_clock_.Format(state.last_time), state.last_data,
        R"(,"snapshot":true,"epoch":)" + std::to_string(state.position.epoch));
    stats_.snapshots_rendered.fetch_add(1, std::memory_order_relaxed);
  }
  return state.snapshot;
}

void Hub::AddPending(std::uint32_t shard, const FramePtr& frame, std::size_t deliveries) {
  std::vector<FramePtr>& frames = pending_[shard];
  if (!Backlogged(shard)) {
    frames.push_back(frame);
    pending_deliveries_[shard] += deliveries;
    return;
  }
  // The shard is behind: its waiting batch keeps one book per symbol.
  auto& index = pending_index_[shard];
  if (index.empty()) {
    for (std::size_t i = 0; i < frames.size(); ++i) index[frames[i]->symbol()] = i;
  }
  auto [it, inserted] = index.try_emplace(frame->symbol(), frames.size());
  if (inserted) {
    frames.push_back(frame);
    pending_deliveries_[shard] += deliveries;
  } else {
    frames[it->second] = frame;
    stats_.conflated.fetch_add(1, std::memory_order_relaxed);
  }
}

void Hub::DispatchPending(bool force) {
  for (std::uint32_t shard = 0; shard < shard_count_; ++shard) {
    if (pending_[shard].empty() || (!force && Backlogged(shard))) continue;
    pending_index_[shard].clear();
    std::size_t deliveries = std::exchange(pending_deliveries_[shard], 0);
    in_flight_[shard]->fetch_add(deliveries, std::memory_order_acq_rel);
    dispatch_(shard, std::exchange(pending_[shard], {}), deliveries);
  }
}

}  // namespace obgw::gateway
