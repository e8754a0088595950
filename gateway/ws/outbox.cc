#include "gateway/ws/outbox.h"

#include <algorithm>
#include <cassert>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <absl/container/flat_hash_set.h>

namespace obgw::gateway {
namespace {

// One gather write carries at most this many frames: below IOV_MAX (1024),
// and large enough that a busy connection needs few syscalls.
constexpr std::size_t kMaxFramesPerWrite = 512;

}  // namespace

template <class Stream>
Outbox<Stream>::Outbox(Stream& stream, std::size_t max_frames, std::size_t max_bytes,
                       ShardStats& stats, const Clock& clock, const ThreadAffinity& thread)
    : stream_(stream),
      max_frames_(max_frames == 0 ? 1 : max_frames),
      max_bytes_(max_bytes),
      stats_(stats),
      clock_(clock),
      thread_(thread) {}

template <class Stream>
void Outbox<Stream>::Push(FramePtr frame) {
  assert(thread_.InThisThread());
  if (frames_stopped_ || failed_) return;
  bool is_book = !frame->symbol().empty();
  bool behind = pending_books_ >= max_frames_ || queued_bytes_ + frame->wire().size() > max_bytes_;
  if (is_book && behind && !ReplaceQueuedBook(frame)) {
    Conflate();
    if (pending_books_ >= max_frames_) DropOldestBook();
  }
  if (frame) {  // Else it took the place of a queued book.
    queued_bytes_ += frame->wire().size();
    pending_.push_back(Item{std::move(frame), nullptr, nullptr});
    if (is_book) ++pending_books_;
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
  auto is_book = [](const Item& item) { return item.frame && !item.frame->symbol().empty(); };
  for (const Item& item : pending_) {
    if (is_book(item)) queued_bytes_ -= item.frame->wire().size();
  }
  stats_.messages_dropped.fetch_add(pending_books_, std::memory_order_relaxed);
  pending_.erase(std::remove_if(pending_.begin(), pending_.end(), is_book), pending_.end());
  pending_books_ = 0;
  UpdateBudget();
}

template <class Stream>
bool Outbox<Stream>::ReplaceQueuedBook(FramePtr& frame) {
  // The newest queued book of the symbol takes the new book's bytes in place:
  // the client gets the fresh state at the earliest slot it would have had.
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    if (it->frame && it->frame->symbol() == frame->symbol()) {
      queued_bytes_ = queued_bytes_ - it->frame->wire().size() + frame->wire().size();
      it->frame = std::move(frame);
      stats_.messages_conflated.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

template <class Stream>
void Outbox<Stream>::DropOldestBook() {
  // Every queued book is of a different symbol than the new one.
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (it->frame && !it->frame->symbol().empty()) {
      queued_bytes_ -= it->frame->wire().size();
      pending_.erase(it);
      --pending_books_;
      stats_.messages_dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
}

template <class Stream>
void Outbox<Stream>::Conflate() {
  // Walk newest to oldest; a book whose symbol was already seen is stale.
  absl::flat_hash_set<std::string_view> seen;
  boost::container::devector<Item> kept;
  std::size_t removed = 0;
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    if (it->frame && !it->frame->symbol().empty() && !seen.insert(it->frame->symbol()).second) {
      queued_bytes_ -= it->frame->wire().size();
      ++removed;
      continue;
    }
    kept.push_front(std::move(*it));
  }
  pending_.swap(kept);
  pending_books_ -= removed;
  stats_.messages_conflated.fetch_add(removed, std::memory_order_relaxed);
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
  if (writing_ || failed_ || pending_.empty()) return;
  auto owner = owner_.lock();
  if (!owner) return;

  buffers_.clear();
  std::size_t frames = 0;
  while (!pending_.empty() && in_flight_.size() < kMaxFramesPerWrite) {
    Item& item = pending_.front();
    if (item.frame) {
      std::string_view wire = deflater_ ? deflater_->Wire(*item.frame) : item.frame->wire();
      buffers_.emplace_back(wire.data(), wire.size());
      if (!item.frame->symbol().empty()) --pending_books_;
      ++frames;
    } else {
      buffers_.emplace_back(item.raw->data(), item.raw->size());
    }
    in_flight_.push_back(std::move(item));
    pending_.pop_front();
  }
  writing_ = true;
  last_progress_ = clock_.Now();
  progress_bytes_ = 0;
  stats_.socket_writes.fetch_add(1, std::memory_order_relaxed);
  stats_.messages_sent.fetch_add(frames, std::memory_order_relaxed);
  stats_.frames_per_write.Observe(frames);
  // The owner rides along so the socket and the queued bytes outlive the write.
  boost::asio::async_write(
      stream_, buffers_,
      // Called after each partial write: a write that moves no byte for long
      // is a client that stopped reading (StalledFor).
      [this](const boost::system::error_code& ec, std::size_t written) -> std::size_t {
        if (ec) return 0;
        if (written > progress_bytes_) {
          progress_bytes_ = written;
          last_progress_ = clock_.Now();
        }
        return 65536;
      },
      [this, owner = std::move(owner)](boost::system::error_code ec, std::size_t bytes) {
        OnWrite(ec, bytes);
      });
}

template <class Stream>
void Outbox<Stream>::OnWrite(boost::system::error_code ec, std::size_t bytes) {
  assert(thread_.InThisThread());
  writing_ = false;
  stats_.bytes_sent.fetch_add(bytes, std::memory_order_relaxed);
  std::vector<Item> done;
  done.swap(in_flight_);
  std::int64_t now_ns = 0;  // Read once per write, at the first book that needs it.
  for (Item& item : done) {
    if (!ec && item.frame && item.frame->received_ns() > 0) {
      if (now_ns == 0) now_ns = clock_.Now().time_since_epoch() / std::chrono::nanoseconds(1);
      stats_.delivery_latency.Observe(static_cast<std::uint64_t>(
          std::max<std::int64_t>(now_ns - item.frame->received_ns(), 0)));
    }
    queued_bytes_ -= item.frame ? item.frame->wire().size() : item.raw->size();
    if (item.done) item.done(ec, ec ? 0 : item.raw->size());
  }
  UpdateBudget();
  done.clear();
  in_flight_.swap(done);  // Keep the capacity for the next write.
  if (ec) {
    Fail(ec);
    return;
  }
  Flush();
}

template <class Stream>
void Outbox<Stream>::Fail(boost::system::error_code ec) {
  failed_ = true;
  boost::container::devector<Item> abandoned;
  abandoned.swap(pending_);
  pending_books_ = 0;
  queued_bytes_ = 0;
  over_budget_since_.reset();
  for (Item& item : abandoned) {
    if (item.done) item.done(ec, 0);
  }
}

// The stream types connections use (a TLS stream will be the second).
template class Outbox<boost::asio::ip::tcp::socket>;

}  // namespace obgw::gateway
