#include "gateway/ws/reply_sequencer.h"

#include <utility>

namespace obgw::gateway {

ReplySequencer::Ticket ReplySequencer::Reserve() {
  assert(!close_queued_);
  slots_.emplace_back();
  return front_ticket_ + slots_.size() - 1;
}

void ReplySequencer::Add(FramePtr reply) {
  if (close_queued_) return;  // Nothing goes out after the close.
  slots_.push_back(Slot{true, std::move(reply), nullptr});
}

void ReplySequencer::Fill(Ticket ticket, FramePtr reply, FramePtr book) {
  assert(ticket >= front_ticket_ && ticket - front_ticket_ < slots_.size());
  Slot& slot = slots_[ticket - front_ticket_];
  assert(!slot.filled);
  slot.filled = true;
  slot.reply = std::move(reply);
  slot.book = std::move(book);
}

}  // namespace obgw::gateway
