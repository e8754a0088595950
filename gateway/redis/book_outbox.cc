#include "gateway/redis/book_outbox.h"

#include <algorithm>
#include <utility>

namespace obgw::gateway {

BookOutbox::Added BookOutbox::Add(OutgoingBook book) {
  Added added;
  MutexLock lock(mutex_);
  auto [it, inserted] = latest_.try_emplace(book.update.symbol, nullptr);
  if (inserted || !(behind_ || books_.size() >= capacity_)) {
    books_.push_back(std::move(book));
    it->second = &books_.back();
  } else if (book.update.local_order >= it->second->update.local_order) {
    // Latest wins, in the place of the book it replaces.
    added.conflated = std::exchange(it->second->update, std::move(book.update));
    it->second->handed_ns = book.handed_ns;
  } else {
    // A book handed back for a retry, older than the one waiting.
    added.conflated = std::move(book.update);
  }
  added.wake = !behind_ && !std::exchange(woken_, true);
  return added;
}

std::vector<OutgoingBook> BookOutbox::Take(std::size_t max) {
  std::vector<OutgoingBook> taken;
  MutexLock lock(mutex_);
  std::size_t count = std::min(max, books_.size());
  taken.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    OutgoingBook& front = books_.front();
    auto latest = latest_.find(front.update.symbol);
    if (latest != latest_.end() && latest->second == &front) latest_.erase(latest);
    taken.push_back(std::move(front));
    books_.pop_front();
  }
  behind_ = !books_.empty();
  woken_ = false;
  return taken;
}

std::size_t BookOutbox::size() const {
  MutexLock lock(mutex_);
  return books_.size();
}

}  // namespace obgw::gateway
