#ifndef OBGW_GATEWAY_WS_OUTBOX_H_
#define OBGW_GATEWAY_WS_OUTBOX_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/container/devector.hpp>
#include <boost/system/error_code.hpp>

#include "gateway/fanout/clock.h"
#include "gateway/fanout/frame.h"
#include "gateway/fanout/frame_deflater.h"
#include "gateway/fanout/thread_affinity.h"
#include "gateway/metrics/gateway_stats.h"

namespace obgw::gateway {

// The bounded send queue of one WebSocket connection and the only writer of
// its stream (`Stream`: an Asio AsyncWriteStream, the TCP socket; a TLS
// stream is a second instantiation in outbox.cc). Runs on the connection's
// shard thread (`thread`) and asserts so in debug builds; reads the time from
// the injected clock.
//
// Owns the queued frames (shared, immutable) and the raw bytes Beast hands it
// (its handshake reply, pongs, close frames; see OutboxStream). Every frame
// pending when a write starts goes out in that one gather write: an idle
// connection writes each frame at once, a busy one carries many per syscall
// (adaptive coalescing).
//
// Bounded: at `max_frames` queued books, or once the bytes not yet written
// (queued + in flight) exceed `max_bytes`, a new book takes the place of the
// queued book of its symbol (conflation; a book is a full snapshot, so only
// staleness is lost); failing that, older books of other symbols are merged
// the same way; if every queued book is still of a different symbol and the
// count is reached, the oldest is dropped. Control replies (empty symbol) are
// not counted against the frame bound and never dropped: a client gets at
// most one per request. The owner watches OverBudgetSince() and StalledFor()
// to close a client that stays behind (slow consumer).
template <class Stream>
class Outbox {
 public:
  using WriteDone = std::function<void(boost::system::error_code, std::size_t)>;

  Outbox(Stream& stream, std::size_t max_frames, std::size_t max_bytes, ShardStats& stats,
         const Clock& clock, const ThreadAffinity& thread);
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // The connection negotiated permessage-deflate: frames go out compressed
  // (each compressed once, shared; see FrameDeflater).
  void UseDeflater(FrameDeflater* deflater) { deflater_ = deflater; }

  // Who keeps the socket alive while a write is in flight (the session).
  void SetOwner(std::weak_ptr<void> owner) { owner_ = std::move(owner); }

  // Queues a frame; it goes out at the next Flush (or with the write in
  // flight's successor).
  void Push(FramePtr frame);
  // Queues bytes written by Beast; `done` runs once they are on the wire (or
  // failed), as Beast's write contract requires.
  void PushRaw(std::string bytes, WriteDone done);
  // Starts a write of everything pending unless one is in flight.
  void Flush();
  // Stops sending books (after a close frame was queued, or on error).
  void StopFrames() { frames_stopped_ = true; }
  // Drops every queued book (a slow consumer about to be closed); replies and
  // Beast's bytes stay.
  void DiscardBooks();

  bool failed() const { return failed_; }
  std::size_t pending() const { return pending_.size(); }
  // Queued items that are not books: replies and Beast's control frames.
  std::size_t pending_replies() const { return pending_.size() - pending_books_; }
  // Bytes queued or in flight, not yet accepted by the kernel.
  std::size_t queued_bytes() const { return queued_bytes_; }
  // Since when queued_bytes() has been over max_bytes even after conflation;
  // nullopt while within the budget.
  std::optional<Clock::time_point> over_budget_since() const { return over_budget_since_; }
  // How long the write in flight has made no progress (zero when idle).
  Clock::duration StalledFor(Clock::time_point now) const {
    return writing_ ? now - last_progress_ : Clock::duration::zero();
  }

 private:
  struct Item {
    FramePtr frame;                    // a shared frame, or
    std::unique_ptr<std::string> raw;  // bytes from Beast (rare)
    WriteDone done;                    // with raw: Beast's completion
  };

  // Full queue: puts `frame` in the place of the newest queued book of its
  // symbol (true, `frame` moved from), or leaves it (false).
  bool ReplaceQueuedBook(FramePtr& frame);
  // Full queue: keeps only the newest book of each symbol.
  void Conflate();
  void DropOldestBook();
  void UpdateBudget();
  void OnWrite(boost::system::error_code ec, std::size_t bytes);
  void Fail(boost::system::error_code ec);

  Stream& stream_;
  const std::size_t max_frames_;
  const std::size_t max_bytes_;
  ShardStats& stats_;
  const Clock& clock_;
  const ThreadAffinity& thread_;
  std::weak_ptr<void> owner_;
  FrameDeflater* deflater_ = nullptr;
  // devector, not deque: an idle connection's empty queue allocates nothing.
  boost::container::devector<Item> pending_;
  std::size_t pending_books_ = 0;  // Items in pending_ that hold a book.
  std::size_t queued_bytes_ = 0;   // Of pending_ and in_flight_.
  std::optional<Clock::time_point> over_budget_since_;
  Clock::time_point last_progress_;  // Of the write in flight.
  std::size_t progress_bytes_ = 0;   // Written so far by the write in flight.
  std::vector<Item> in_flight_;
  std::vector<boost::asio::const_buffer> buffers_;
  bool writing_ = false;
  bool frames_stopped_ = false;
  bool failed_ = false;
};

using PlainOutbox = Outbox<boost::asio::ip::tcp::socket>;

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_WS_OUTBOX_H_
