#ifndef OBGW_GATEWAY_FANOUT_UPDATE_QUEUE_H_
#define OBGW_GATEWAY_FANOUT_UPDATE_QUEUE_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <variant>
#include <vector>

#include <absl/base/thread_annotations.h>
#include <concurrentqueue/blockingconcurrentqueue.h>
#include "gateway/fanout/mutex.h"

#include "gateway/fanout/book_update.h"

namespace obgw::gateway {

// The lock-free MPSC hand-off between producers (gRPC reactors, the REST shim,
// I/O shards sending subscription changes) and the one hub thread.
//
// Owns the moodycamel queue, the flow-control state and the count of books
// enqueued (each book's ticket, each subscription change's books_before: how
// the hub orders a change after every book queued before it, across
// producers). Producers call from any thread, each with its own ProducerToken
// (so one producer's messages stay in order); only the hub thread calls
// PopBulk and AfterPop.
//
// Bounded by flow control, not by refusing: book updates beyond the high-water
// mark are refused to producers that can retry (REST: TryPushUpdate -> 503) and
// pause producers that can wait (gRPC: PushUpdate returns true -> the reactor
// stops reading and calls WhenDrained to be resumed). Subscription changes are
// never refused: there are at most a few per client action.
class UpdateQueue {
 public:
  using Token = moodycamel::ProducerToken;

  explicit UpdateQueue(std::size_t high_water)
      : high_water_(high_water == 0 ? 1 : high_water), low_water_(high_water_ / 2) {}
  UpdateQueue(const UpdateQueue&) = delete;
  UpdateQueue& operator=(const UpdateQueue&) = delete;

  Token MakeToken() { return Token(queue_); }

  // Enqueues unconditionally; returns true when the queue is now at or over
  // its high-water mark and the producer should pause.
  bool PushUpdate(Token& token, BookUpdate update) {
    update.ticket = TakeTickets(1);
    queue_.enqueue(token, HubMessage(std::move(update)));
    return Depth() >= high_water_;
  }

  // Enqueues every message of `messages` (and empties it) at once: one
  // wake-up of the hub for the lot, not one per book (a producer that
  // delivers books in bursts, the Redis broker, would otherwise hand the core
  // to the hub for every book). Returns true as PushUpdate does.
  bool PushUpdates(Token& token, std::vector<HubMessage>& messages) {
    std::size_t books = 0;
    for (const HubMessage& message : messages) books += std::holds_alternative<BookUpdate>(message);
    std::uint64_t ticket = books > 0 ? TakeTickets(books) : 0;
    for (HubMessage& message : messages) {
      if (auto* update = std::get_if<BookUpdate>(&message)) {
        update->ticket = ticket++;
      } else {
        std::get<SubscriptionChange>(message).books_before = ticket;
      }
    }
    queue_.enqueue_bulk(token, std::make_move_iterator(messages.begin()), messages.size());
    messages.clear();
    return Depth() >= high_water_;
  }

  // Enqueues only below the high-water mark; false means "full, retry later"
  // and leaves `update` untouched.
  bool TryPushUpdate(Token& token, BookUpdate& update) {
    if (Depth() >= high_water_) return false;
    update.ticket = TakeTickets(1);
    queue_.enqueue(token, HubMessage(std::move(update)));
    return true;
  }

  // Stamps the change with the books enqueued so far (books_before): the hub
  // applies it once it has routed all of them, whichever producer queued them.
  void PushControl(Token& token, SubscriptionChange change) {
    change.books_before = books_enqueued_.load(std::memory_order_seq_cst);
    queue_.enqueue(token, HubMessage(std::move(change)));
  }

  // Runs `resume` once the depth has fallen below the low-water mark (at once,
  // on the caller's thread, when it already has; otherwise later, on the hub
  // thread).
  void WhenDrained(std::function<void()> resume) {
    {
      MutexLock lock(waiters_mutex_);
      if (Depth() >= low_water_) {
        waiters_.push_back(std::move(resume));
        has_waiters_.store(true, std::memory_order_release);
        return;
      }
    }
    resume();
  }

  // Hub thread: waits up to `timeout` for the first message, then takes up to
  // `max` at once.
  std::size_t PopBulk(HubMessage* out, std::size_t max, std::chrono::microseconds timeout) {
    return queue_.wait_dequeue_bulk_timed(out, max, timeout);
  }

  // Hub thread, after each PopBulk: resumes paused producers once drained.
  // One relaxed load when nobody waits.
  void AfterPop() {
    if (!has_waiters_.load(std::memory_order_acquire) || Depth() >= low_water_) return;
    std::vector<std::function<void()>> ready;
    {
      MutexLock lock(waiters_mutex_);
      ready.swap(waiters_);
      has_waiters_.store(false, std::memory_order_release);
    }
    for (auto& resume : ready) resume();
  }

  std::size_t Depth() const { return queue_.size_approx(); }
  std::size_t high_water() const { return high_water_; }

 private:
  // The first of `n` consecutive book tickets. Taken just before the enqueue,
  // which cannot fail (the queue grows), so every ticket reaches the hub:
  // one a change waits for may be in flight on another producer's thread
  // for the instant it takes to enqueue, never lost.
  std::uint64_t TakeTickets(std::size_t n) {
    return books_enqueued_.fetch_add(n, std::memory_order_seq_cst);
  }

  const std::size_t high_water_;
  const std::size_t low_water_;
  moodycamel::BlockingConcurrentQueue<HubMessage> queue_;
  Mutex waiters_mutex_;  // Only taken when producers pause: off the hot path.
  std::vector<std::function<void()>> waiters_ ABSL_GUARDED_BY(waiters_mutex_);
  std::atomic<bool> has_waiters_{false};
  // Book tickets given (a count of books enqueued). Its own cache line: every
  // producer bumps it, the rest of the queue's state is read-mostly.
  alignas(64) std::atomic<std::uint64_t> books_enqueued_{0};
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_FANOUT_UPDATE_QUEUE_H_
