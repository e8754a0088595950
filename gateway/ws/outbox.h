#ifndef OBGW_GATEWAY_WS_OUTBOX_H_
#define OBGW_GATEWAY_WS_OUTBOX_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
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
// its stream (`Stream`: an Asio AsyncWriteStream, the TCP socket, or a
// TlsStream, the second instantiation in outbox.cc, whose writes complete a
// record at a time). Runs on the connection's
// shard thread (`thread`) and asserts so in debug builds; reads the time from
// the injected clock, once per Flush or write completion (never per frame).
//
// Owns the queued frames (shared, immutable) and the raw bytes Beast hands it
// (its handshake reply, pongs, close frames; see OutboxStream). A write
// carries what is pending, up to kMaxBuffersPerWrite frames and about
// kMaxBytesPerWrite bytes, in one async_write_some (one sendmsg): an idle
// connection writes each frame at once, a busy one many per syscall
// (adaptive coalescing). What the kernel does not take (its send buffer is
// kept small, --socket_send_buffer_bytes) goes back to the front of the
// queue, where a newer book can still replace it; only a frame the kernel
// took part of stays in flight, and its rest goes first, so frames never
// interleave (counted: socket_buffer_full); the next write waits for room
// (holding no frame) and is built from the queue as it is then.
//
// Bounded: at `max_frames` queued books, or once the bytes not yet written
// (queued + in flight) exceed `max_bytes`, a new book takes the place of the
// queued book of its symbol (conflation; a book is a full snapshot, so only
// staleness is lost); failing that, older books of other symbols are merged
// the same way; if every queued book is still of a different symbol and the
// count is reached, the oldest is dropped. Bounded in time too (`max_age`,
// zero for none): once the oldest queued book has waited longer than that
// since it was queued (stamped at the first Flush after its Push), the queue
// keeps only the newest book of each symbol until it catches up (counted:
// session_conflated_age). A replacement takes the place of the older book,
// so each symbol's books still go out in the order queued (seq only moves
// forward). Control replies (empty symbol) are not counted against the frame
// bound and never dropped: a client gets at most one per request. The owner
// watches OverBudgetSince() and StalledFor() to close a client that stays
// behind (slow consumer).
template <class Stream>
class Outbox {
 public:
  using WriteDone = std::function<void(boost::system::error_code, std::size_t)>;

  // Frames (and buffers) one write carries: Asio's reactor hands at most 64
  // buffers to one sendmsg.
  static constexpr std::size_t kMaxBuffersPerWrite = 64;
  // Bytes a write offers the kernel before it stops adding frames (at least
  // one frame always goes).
  static constexpr std::size_t kMaxBytesPerWrite = 64 << 10;

  Outbox(Stream& stream, std::size_t max_frames, std::size_t max_bytes, ShardStats& stats,
         const Clock& clock, const ThreadAffinity& thread,
         Clock::duration max_age = Clock::duration::zero());
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
  // Stamps the frames pushed since the last Flush with the time, applies the
  // age bound, and starts a write unless one is in flight.
  void Flush();
  // Stops sending books (after a close frame was queued, or on error).
  void StopFrames() { frames_stopped_ = true; }
  // Drops every queued book (a slow consumer about to be closed); replies and
  // Beast's bytes stay.
  void DiscardBooks();

  bool failed() const { return failed_; }
  // Queued items, not yet handed to a write (or handed back by a short one).
  std::size_t pending() const { return pending_.size(); }
  // Whether the age bound is conflating the queue (its oldest book is older
  // than max_age as of the last Flush).
  bool aged() const { return aged_; }
  // Queued items that are not books: replies and Beast's control frames.
  std::size_t pending_replies() const { return pending_.size() - pending_books_; }
  // Bytes queued or in flight, not yet accepted by the kernel.
  std::size_t queued_bytes() const { return queued_bytes_; }
  // Frames (books, replies, pings) wholly written so far: the ws_closed log
  // line's messages_sent.
  std::uint64_t messages_sent() const { return messages_sent_; }
  // Since when queued_bytes() has been over max_bytes even after conflation;
  // nullopt while within the budget.
  std::optional<Clock::time_point> over_budget_since() const { return over_budget_since_; }
  // How long the write in flight (or the wait for room after a short one) has
  // made no progress (zero when idle).
  Clock::duration StalledFor(Clock::time_point now) const {
    return writing_ ? now - last_progress_ : Clock::duration::zero();
  }

 private:
  struct Item {
    FramePtr frame;                    // a shared frame, or
    std::unique_ptr<std::string> raw;  // bytes from Beast (rare)
    WriteDone done;                    // with raw: Beast's completion
    // When it was queued: the first Flush after its Push; unset before.
    Clock::time_point queued_at{};
  };

  static bool IsBook(const Item& item) { return item.frame && !item.frame->symbol().empty(); }
  // The bytes it puts on the wire (compressed for a deflate connection).
  std::string_view WireOf(const Item& item) const;
  // Counted bytes (queued_bytes_): uncompressed.
  static std::size_t SizeOf(const Item& item) {
    return item.frame ? item.frame->wire().size() : item.raw->size();
  }

  // Puts `frame` in the place of the newest queued book of its symbol (true,
  // `frame` moved from, `counter` +1), or leaves it (false).
  bool ReplaceQueuedBook(FramePtr& frame, Counter& counter);
  // Keeps only the newest queued book of each symbol; `counter` + removed.
  void Conflate(Counter& counter);
  void DropOldestBook();
  void UpdateBudget();
  // Flush with the time read: stamps, the age bound, then the next write.
  void FlushAt(Clock::time_point now);
  void ApplyAgeBound(Clock::time_point now);
  void StartWrite(Clock::time_point now);
  void OnWrite(boost::system::error_code ec, std::size_t bytes);
  // After a short write: the next write starts once the socket has room.
  void WaitWritable(Clock::time_point now);
  // The wait for room failed (the socket was closed): nothing goes out.
  void Abort(boost::system::error_code ec);
  void Fail(boost::system::error_code ec);

  Stream& stream_;
  const std::size_t max_frames_;
  const std::size_t max_bytes_;
  const Clock::duration max_age_;
  ShardStats& stats_;
  const Clock& clock_;
  const ThreadAffinity& thread_;
  std::weak_ptr<void> owner_;
  FrameDeflater* deflater_ = nullptr;
  // devector, not deque: an idle connection's empty queue allocates nothing.
  boost::container::devector<Item> pending_;
  std::size_t pending_books_ = 0;  // Items in pending_ that hold a book.
  std::uint64_t messages_sent_ = 0;
  std::size_t queued_bytes_ = 0;  // Of pending_ and in_flight_.
  std::optional<Clock::time_point> over_budget_since_;
  Clock::time_point last_progress_;  // Start of the write in flight.
  // The write in flight (or, between writes, the frame the kernel took part
  // of, alone): its first item's first head_written_ bytes went out in an
  // earlier write.
  std::vector<Item> in_flight_;
  std::size_t head_written_ = 0;
  std::size_t write_bytes_ = 0;  // Offered by the write in flight.
  std::vector<Item> completed_;  // Scratch of OnWrite, kept for its capacity.
  std::vector<boost::asio::const_buffer> buffers_;
  // The age bound holds: pushes replace the queued book of their symbol.
  bool aged_ = false;
  // Books were appended (or handed back) since the last Conflate, so a
  // symbol may be queued twice.
  bool may_have_duplicates_ = false;
  bool writing_ = false;
  bool frames_stopped_ = false;
  bool failed_ = false;
};

using PlainOutbox = Outbox<boost::asio::ip::tcp::socket>;

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_WS_OUTBOX_H_
