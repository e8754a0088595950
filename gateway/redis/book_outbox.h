#ifndef OBGW_GATEWAY_REDIS_BOOK_OUTBOX_H_
#define OBGW_GATEWAY_REDIS_BOOK_OUTBOX_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <absl/base/thread_annotations.h>
#include <absl/container/flat_hash_map.h>

#include "gateway/fanout/book_update.h"
#include "gateway/fanout/mutex.h"

namespace obgw::gateway {

// A book on its way from the hub to Redis.
struct OutgoingBook {
  BookUpdate update;
  std::int64_t handed_ns = 0;  // Steady clock, when the hub handed it over.
};

// The books the hub handed to the RedisBroker that have not been sent to
// Redis yet. While the Redis thread keeps up (it took every book last time)
// books just queue, in order. Once it does not (its in-flight bound left
// books behind) or `capacity` books wait, a book joins as the latest of its
// symbol: it replaces the newest book of its symbol waiting (books are full
// snapshots, so a book waiting behind a newer one of its symbol has nothing
// left to say). So a Redis slower than the books coming in costs
// conflation, never unbounded memory (at most capacity + one per symbol) nor
// a queue of stale books. Books leave in the order they came.
//
// Owns the waiting books. Threads: Add on the hub thread, Take on the Redis
// thread; the two meet under one mutex, held for neither I/O nor callbacks.
class BookOutbox {
 public:
  struct Added {
    // The Redis thread must be woken (posted to): it is not going to look
    // at the outbox again by itself.
    bool wake = false;
    // The book that lost its place (the one replaced, or `book` itself when
    // the waiting book of its symbol is newer): its on_routed(0) is the
    // caller's to run, outside the lock.
    std::optional<BookUpdate> conflated;
  };

  explicit BookOutbox(std::size_t capacity) : capacity_(capacity) {}

  // Hub thread.
  Added Add(OutgoingBook book);

  // Redis thread: removes and returns up to `max` books, oldest first. While books remain after it,
  // the Redis thread is expected to call again (when an answer frees room) without a wake-up; once
  // it left the outbox empty, the next Add wakes it.
  std::vector<OutgoingBook> Take(std::size_t max);

  std::size_t size() const;

 private:
  const std::size_t capacity_;
  mutable Mutex mutex_;
  // Waiting books, oldest first; `latest_` maps a symbol to its newest one
  // (references into a deque stay valid across push_back and pop_front).
  std::deque<OutgoingBook> books_ ABSL_GUARDED_BY(mutex_);
  absl::flat_hash_map<std::string, OutgoingBook*> latest_ ABSL_GUARDED_BY(mutex_);
  // The last Take left books behind: the Redis thread will look at the
  // outbox again without being woken, and new books conflate.
  bool behind_ ABSL_GUARDED_BY(mutex_) = false;
  // A wake-up was asked for and the Redis thread has not taken yet.
  bool woken_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_REDIS_BOOK_OUTBOX_H_
