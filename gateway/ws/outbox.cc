#include "gateway/ws/outbox.h"

#include <algorithm>
#include <cassert>
#include <iterator>

#include <poll.h>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/stream_traits.hpp>

#include <absl/container/flat_hash_set.h>

#include "gateway/tls/tls_stream.h"

namespace obgw::gateway {

template <class Stream>
Outbox<Stream>::Outbox(Stream& stream, std::size_t max_frames, std::size_t max_bytes,
                       ShardStats& stats, const Clock& clock, const ThreadAffinity& thread,
                       Clock::duration max_age)
    : stream_(stream),
      max_frames_(max_frames == 0 ? 1 : max_frames),
      max_bytes_(max_bytes),
      max_age_(max_age),
      stats_(stats),
      clock_(clock),
      thread_(thread) {}

template <class Stream>
std::string_view Outbox<Stream>::WireOf(const Item& item) const {
  if (!item.frame) return *item.raw;
  return deflater_ ? deflater_->Wire(*item.frame) : item.frame->wire();
}

template <class Stream>
void Outbox<Stream>::Push(FramePtr frame) {
  assert(thread_.InThisThread());
  if (frames_stopped_ || failed_) return;
  bool is_book = !frame->symbol().empty();
  if (is_book && aged_ && ReplaceQueuedBook(frame, stats_.messages_conflated_age)) {
    UpdateBudget();
    return;
  }
  bool behind = pending_books_ >= max_frames_ || queued_bytes_ + frame->wire().size() > max_bytes_;
  if (is_book && behind && !ReplaceQueuedBook(frame, stats_.messages_conflated)) {
    Conflate(stats_.messages_conflated);
    if (pending_books_ >= max_frames_) DropOldestBook();
  }
  if (frame) {  // Else it took the place of a queued book.
    queued_bytes_ += frame->wire().size();
    pending_.push_back(Item{std::move(frame), nullptr, nullptr});
    if (is_book) {
      ++pending_books_;
      // While aged, a book is appended only when its symbol is not queued.
      if (!aged_) may_have_duplicates_ = true;
    }
  }
  UpdateBudget();
}

template <class Stream>
void Outbox<Stream>::UpdateBudget() {
  if (queued_bytes_ <= max_bytes_) {
    over_budget_since_.reset();
  } else if (!over_budget_since_) {
    over_budget_since_ = clock_.Now();
  }
}

template <class Stream>
void Outbox<Stream>::DiscardBooks() {
  assert(thread_.InThisThread());
  for (const Item& item : pending_) {
    if (IsBook(item)) queued_bytes_ -= item.frame->wire().size();
  }
  stats_.messages_dropped.fetch_add(pending_books_, std::memory_order_relaxed);
  pending_.erase(std::remove_if(pending_.begin(), pending_.end(), IsBook), pending_.end());
  pending_books_ = 0;
  // A frame the kernel took part of stays in flight: its rest must follow.
  UpdateBudget();
}

template <class Stream>
bool Outbox<Stream>::ReplaceQueuedBook(FramePtr& frame, Counter& counter) {
  // The newest queued book of the symbol takes the new book's bytes in place:
  // the client gets the fresh state at the earliest slot it would have had,
  // and nothing of the symbol queued after that slot (there is none) could
  // go out after it. The slot keeps its time: the connection is as far
  // behind as before.
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    if (it->frame && it->frame->symbol() == frame->symbol()) {
      queued_bytes_ = queued_bytes_ - it->frame->wire().size() + frame->wire().size();
      it->frame = std::move(frame);
      counter.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

template <class Stream>
void Outbox<Stream>::DropOldestBook() {
  // Every queued book is of a different symbol than the new one.
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (IsBook(*it)) {
      queued_bytes_ -= it->frame->wire().size();
      pending_.erase(it);
      --pending_books_;
      stats_.messages_dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
}

template <class Stream>
void Outbox<Stream>::Conflate(Counter& counter) {
  may_have_duplicates_ = false;
  // Walk newest to oldest; a book whose symbol was already seen is stale.
  absl::flat_hash_set<std::string_view> seen;
  boost::container::devector<Item> kept;
  std::size_t removed = 0;
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    if (IsBook(*it) && !seen.insert(it->frame->symbol()).second) {
      queued_bytes_ -= it->frame->wire().size();
      ++removed;
      continue;
    }
    kept.push_front(std::move(*it));
  }
  pending_.swap(kept);
  pending_books_ -= removed;
  counter.fetch_add(removed, std::memory_order_relaxed);
}

template <class Stream>
void Outbox<Stream>::PushRaw(std::string bytes, WriteDone done) {
  assert(thread_.InThisThread());
  if (failed_) {
    // Beast must not be completed inline from its initiating call.
    boost::asio::post(stream_.get_executor(),
                      [done = std::move(done)] { done(boost::asio::error::broken_pipe, 0); });
    return;
  }
  // A close frame (FIN + opcode 8) ends the message stream: RFC 6455 forbids
  // data frames after it.
  if (!bytes.empty() && static_cast<unsigned char>(bytes[0]) == 0x88) frames_stopped_ = true;
  queued_bytes_ += bytes.size();
  pending_.push_back(
      Item{nullptr, std::make_unique<std::string>(std::move(bytes)), std::move(done)});
  Flush();
}

template <class Stream>
void Outbox<Stream>::Flush() {
  assert(thread_.InThisThread());
  if (failed_ || (pending_.empty() && in_flight_.empty())) return;
  // A write in flight, nothing new to stamp: its completion flushes.
  if (writing_ && (pending_.empty() || pending_.back().queued_at != Clock::time_point{})) return;
  FlushAt(clock_.Now());
}

template <class Stream>
void Outbox<Stream>::FlushAt(Clock::time_point now) {
  // New items are at the back; everything before them has its time.
  for (auto it = pending_.rbegin(); it != pending_.rend() && it->queued_at == Clock::time_point{};
       ++it) {
    it->queued_at = now;
  }
  ApplyAgeBound(now);
  if (writing_ || failed_ || (pending_.empty() && in_flight_.empty())) return;
  StartWrite(now);
}

template <class Stream>
void Outbox<Stream>::ApplyAgeBound(Clock::time_point now) {
  if (max_age_ <= Clock::duration::zero()) return;
  // Queue order is time order: the first book is the oldest.
  auto oldest = std::find_if(pending_.begin(), pending_.end(), IsBook);
  if (oldest == pending_.end() || now - oldest->queued_at <= max_age_) {
    aged_ = false;
    return;
  }
  // From here on pushes replace in place; what is already queued (or came
  // back from a short write) is merged once.
  if (!aged_ || may_have_duplicates_) Conflate(stats_.messages_conflated_age);
  aged_ = true;
}

template <class Stream>
void Outbox<Stream>::StartWrite(Clock::time_point now) {
  auto owner = owner_.lock();
  if (!owner) return;
  buffers_.clear();
  std::size_t bytes = 0;
  std::size_t frames = 0;
  if (!in_flight_.empty()) {
    // The rest of the frame the last write took part of goes first.
    assert(in_flight_.size() == 1 && head_written_ > 0);
    std::string_view wire = WireOf(in_flight_.front());
    buffers_.emplace_back(wire.data() + head_written_, wire.size() - head_written_);
    bytes += wire.size() - head_written_;
    if (in_flight_.front().frame) ++frames;
  }
  while (!pending_.empty() && buffers_.size() < kMaxBuffersPerWrite &&
         (buffers_.empty() || bytes < kMaxBytesPerWrite)) {
    Item& item = pending_.front();
    std::string_view wire = WireOf(item);
    buffers_.emplace_back(wire.data(), wire.size());
    bytes += wire.size();
    if (item.frame) ++frames;
    if (IsBook(item)) --pending_books_;
    in_flight_.push_back(std::move(item));
    pending_.pop_front();
  }
  writing_ = true;
  last_progress_ = now;
  write_bytes_ = bytes;
  stats_.socket_writes.fetch_add(1, std::memory_order_relaxed);
  stats_.frames_per_write.Observe(frames);
  // One sendmsg: what the kernel does not take comes back to the queue
  // (OnWrite). The owner rides along so the socket and the bytes outlive it.
  stream_.async_write_some(
      buffers_, [this, owner = std::move(owner)](boost::system::error_code ec,
                                                 std::size_t written) { OnWrite(ec, written); });
}

template <class Stream>
void Outbox<Stream>::OnWrite(boost::system::error_code ec, std::size_t bytes) {
  assert(thread_.InThisThread());
  writing_ = false;
  stats_.bytes_sent.fetch_add(bytes, std::memory_order_relaxed);
  // The kernel took only part of the write: its send buffer is full. Not so
  // for TLS: a write there completes once one record (16 KiB at most) is
  // wholly on the wire, so a short one only means "the next record now"; a
  // full kernel buffer shows as a write in flight that makes no progress.
  const bool short_write = !kIsTlsStream<Stream> && !ec && bytes < write_bytes_;
  if (short_write) stats_.socket_buffer_full.fetch_add(1, std::memory_order_relaxed);
  // One clock read per write: the latency of what went out, the stamps and
  // the start of the next write.
  const Clock::time_point now = clock_.Now();
  const std::int64_t now_ns = now.time_since_epoch() / std::chrono::nanoseconds(1);

  // The items whose last byte went out now.
  std::size_t done = 0;
  std::size_t left = bytes;
  std::size_t written_before = head_written_;
  for (; done < in_flight_.size(); ++done) {
    std::size_t rest = WireOf(in_flight_[done]).size() - written_before;
    if (left < rest) break;
    left -= rest;
    written_before = 0;
  }
  // A frame the kernel took part of: its rest goes first next time.
  head_written_ = done < in_flight_.size() ? written_before + left : 0;
  const std::size_t keep = head_written_ > 0 ? 1 : 0;

  completed_.clear();
  std::move(in_flight_.begin(), in_flight_.begin() + done, std::back_inserter(completed_));
  if (ec) {
    // The connection is gone: nothing else goes out.
    std::move(in_flight_.begin() + done, in_flight_.end(), std::back_inserter(completed_));
    head_written_ = 0;
    in_flight_.clear();
  } else {
    // The frames the kernel did not take at all go back to the queue's
    // front, in order, where a newer book can still replace them.
    for (auto it = in_flight_.end(); it != in_flight_.begin() + done + keep;) {
      --it;
      if (IsBook(*it)) {
        ++pending_books_;
        may_have_duplicates_ = true;
      }
      pending_.push_front(std::move(*it));
    }
    in_flight_.erase(in_flight_.begin() + done + keep, in_flight_.end());
    in_flight_.erase(in_flight_.begin(), in_flight_.begin() + done);
  }

  std::size_t sent = 0;
  for (std::size_t i = 0; i < completed_.size(); ++i) {
    Item& item = completed_[i];
    const bool written = !ec || i < done;
    queued_bytes_ -= SizeOf(item);
    if (item.frame && written) {
      ++sent;
      if (item.frame->received_ns() > 0) {
        stats_.delivery_latency.Observe(static_cast<std::uint64_t>(
            std::max<std::int64_t>(now_ns - item.frame->received_ns(), 0)));
      }
    }
    if (item.done)
      item.done(written ? boost::system::error_code() : ec, written ? SizeOf(item) : 0);
  }
  stats_.messages_sent.fetch_add(sent, std::memory_order_relaxed);
  messages_sent_ += sent;
  completed_.clear();
  UpdateBudget();
  if (ec) {
    Fail(ec);
    return;
  }
  if (short_write) {
    WaitWritable(now);
  } else {
    FlushAt(now);
  }
}

template <class Stream>
void Outbox<Stream>::WaitWritable(Clock::time_point now) {
  // The kernel's buffer was full a moment ago. Waiting for room holds no
  // frame, so the queue keeps conflating until the next write builds itself
  // from what is newest then.
  auto& socket = TcpSocketOf(stream_);
  // Room may have come back since the write (the reactor may even have seen
  // the edge with no waiter): one poll, on this slow path only.
  pollfd fd{socket.native_handle(), POLLOUT, 0};
  if (::poll(&fd, 1, 0) != 0) return FlushAt(now);
  auto owner = owner_.lock();
  if (!owner) return;
  writing_ = true;
  last_progress_ = now;  // The short write moved bytes.
  socket.async_wait(boost::asio::socket_base::wait_write,
                    [this, owner = std::move(owner)](boost::system::error_code ec) {
                      assert(thread_.InThisThread());
                      writing_ = false;
                      if (ec) return Abort(ec);
                      FlushAt(clock_.Now());
                    });
}

template <class Stream>
void Outbox<Stream>::Abort(boost::system::error_code ec) {
  // The rest of a partly written frame can no longer go out.
  std::vector<Item> abandoned;
  abandoned.swap(in_flight_);
  head_written_ = 0;
  Fail(ec);
  for (Item& item : abandoned) {
    if (item.done) item.done(ec, 0);
  }
}

template <class Stream>
void Outbox<Stream>::Fail(boost::system::error_code ec) {
  failed_ = true;
  aged_ = false;
  boost::container::devector<Item> abandoned;
  abandoned.swap(pending_);
  pending_books_ = 0;
  queued_bytes_ = 0;
  over_budget_since_.reset();
  for (Item& item : abandoned) {
    if (item.done) item.done(ec, 0);
  }
}

// The stream types connections use.
template class Outbox<boost::asio::ip::tcp::socket>;
template class Outbox<TlsStream>;

}  // namespace obgw::gateway
