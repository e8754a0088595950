#ifndef OBGW_GATEWAY_WS_REPLY_SEQUENCER_H_
#define OBGW_GATEWAY_WS_REPLY_SEQUENCER_H_

#include <cassert>
#include <cstddef>
#include <cstdint>

#include <boost/container/devector.hpp>

#include "gateway/fanout/frame.h"

namespace obgw::gateway {

// The one place that decides when a connection's replies go out: every
// reply, every snapshot and the close pass through it, in request order
// (docs/protocol.md 2.4 items 2 and 7, 2.10).
//
// Each request takes a slot when it is read, in order. A reply ready at once
// (pong, error, subscriptions) fills its slot at once; one the hub owes (a
// confirmation) leaves it open until Fill. A slot may carry two frames, a
// confirmation and its snapshot, which therefore leave together, before any
// later reply; a restored subscription's slot carries its snapshot alone (it
// has no confirmation), or nothing. The close is queued as the last item: every reply queued
// before it goes out before the close frame, nothing queued after it goes out
// at all. Release hands out what is due: the filled slots at the front, then
// the close once every slot before it is out.
//
// Owns the frames it holds back. Thread-compatible: used by one
// WebSocketSession on its shard thread.
class ReplySequencer {
 public:
  // Names a slot whose reply is still owed.
  using Ticket = std::uint64_t;

  // A reply that is still owed takes its place now. Not after QueueClose
  // (a closing connection reads no more requests).
  Ticket Reserve();
  // A reply ready now, behind every earlier one; ignored after QueueClose.
  void Add(FramePtr reply);
  // The owed reply of `ticket` arrived: `reply` (or null: none), then `book`
  // (its snapshot, or null), in that slot.
  void Fill(Ticket ticket, FramePtr reply, FramePtr book = nullptr);
  // The close, behind every reply queued so far. Later calls change nothing.
  void QueueClose() { close_queued_ = true; }

  // Calls send(frame) for every frame now due, in order; returns true once,
  // when the close is due (the caller starts it).
  template <class Send>
  bool Release(Send&& send);

  bool close_queued() const { return close_queued_; }
  // Whether the frames of `ticket` have been handed out by Release.
  bool released(Ticket ticket) const { return ticket < front_ticket_; }
  // Slots not yet released (filled or still owed).
  std::size_t waiting() const { return slots_.size(); }

 private:
  struct Slot {
    bool filled = false;
    FramePtr reply;
    FramePtr book;
  };

  // devector, not deque: an idle connection's empty queue allocates nothing.
  boost::container::devector<Slot> slots_;
  Ticket front_ticket_ = 0;  // The ticket of slots_.front().
  bool close_queued_ = false;
  bool close_released_ = false;
};

template <class Send>
bool ReplySequencer::Release(Send&& send) {
  while (!slots_.empty() && slots_.front().filled) {
    Slot slot = std::move(slots_.front());
    slots_.pop_front();
    ++front_ticket_;
    if (slot.reply) send(std::move(slot.reply));
    if (slot.book) send(std::move(slot.book));
  }
  if (slots_.empty() && close_queued_ && !close_released_) {
    close_released_ = true;
    return true;
  }
  return false;
}

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_WS_REPLY_SEQUENCER_H_
