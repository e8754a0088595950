#ifndef OBGW_GATEWAY_OUTBOX_H_
#define OBGW_GATEWAY_OUTBOX_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/container/devector.hpp>
#include <boost/system/error_code.hpp>

#include "gateway/frame.h"
#include "gateway/gateway_stats.h"

namespace obgw::gateway {

// The bounded send queue of one WebSocket connection and the only writer of
// its socket. Runs on the connection's shard thread.
//
// Owns the queued frames (shared, immutable) and the raw bytes Beast hands it
// (its handshake reply, pongs, close frames; see OutboxStream). Every frame
// pending when a write starts goes out in that one gather write: an idle
// connection writes each frame at once, a busy one carries many per syscall
// (adaptive coalescing).
//
// Bounded: at `max_frames` queued books, a new book takes the place of the
// queued book of its symbol (conflation; a book is a full snapshot, so only
// staleness is lost); failing that, older books of other symbols are merged
// the same way; if every queued book is still of a different symbol, the
// oldest is dropped. Control replies (empty symbol) are not counted against
// the bound and never dropped: a client gets at most one per request.
class Outbox {
 public:
  using WriteDone = std::function<void(boost::system::error_code, std::size_t)>;

  Outbox(boost::asio::ip::tcp::socket& socket, std::size_t max_frames, ShardStats& stats);
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

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

  bool failed() const { return failed_; }
  std::size_t pending() const { return pending_.size(); }
  // Queued items that are not books: replies and Beast's control frames.
  std::size_t pending_replies() const { return pending_.size() - pending_books_; }

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
  void OnWrite(boost::system::error_code ec, std::size_t bytes);
  void Fail(boost::system::error_code ec);

  boost::asio::ip::tcp::socket& socket_;
  const std::size_t max_frames_;
  ShardStats& stats_;
  std::weak_ptr<void> owner_;
  // devector, not deque: an idle connection's empty queue allocates nothing.
  boost::container::devector<Item> pending_;
  std::size_t pending_books_ = 0;  // Items in pending_ that hold a book.
  std::vector<Item> in_flight_;
  std::vector<boost::asio::const_buffer> buffers_;
  bool writing_ = false;
  bool frames_stopped_ = false;
  bool failed_ = false;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_OUTBOX_H_
