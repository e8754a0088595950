#include "gateway/cluster/in_memory_session_store.h"

#include <algorithm>

#include <boost/asio/post.hpp>

namespace obgw::gateway {

void InMemorySessionStore::Open(const std::string& client_id, boost::asio::any_io_executor executor,
                                Loaded loaded) {
  Symbols symbols;
  {
    MutexLock lock(mutex_);
    Expire(now_());
    Record& record = records_[client_id];
    ++record.connections;
    symbols.assign(record.symbols.begin(), record.symbols.end());
  }
  std::sort(symbols.begin(), symbols.end());
  boost::asio::post(executor, [loaded = std::move(loaded), symbols = std::move(symbols)]() mutable {
    loaded(std::move(symbols));
  });
}

void InMemorySessionStore::AddSymbol(const std::string& client_id, const std::string& symbol) {
  MutexLock lock(mutex_);
  Expire(now_());
  if (Record* record = OpenRecord(client_id)) record->symbols.insert(symbol);
}

void InMemorySessionStore::RemoveSymbol(const std::string& client_id, const std::string& symbol) {
  MutexLock lock(mutex_);
  Expire(now_());
  if (Record* record = OpenRecord(client_id)) record->symbols.erase(symbol);
}

void InMemorySessionStore::Close(const std::string& client_id) {
  MutexLock lock(mutex_);
  Clock::time_point now = now_();
  Expire(now);
  Record* record = OpenRecord(client_id);
  if (record == nullptr || --record->connections > 0) return;
  record->expires = now + ttl_;
  expiries_.push_back({record->expires, client_id});
}

std::size_t InMemorySessionStore::size() {
  MutexLock lock(mutex_);
  Expire(now_());
  return records_.size();
}

void InMemorySessionStore::Expire(Clock::time_point now) {
  while (!expiries_.empty() && expiries_.front().due <= now) {
    auto it = records_.find(expiries_.front().client_id);
    // Reopened since (and maybe closed again, with a later expiry): kept.
    if (it != records_.end() && it->second.connections == 0 &&
        it->second.expires == expiries_.front().due) {
      records_.erase(it);
    }
    expiries_.pop_front();
  }
}

InMemorySessionStore::Record* InMemorySessionStore::OpenRecord(const std::string& client_id) {
  auto it = records_.find(client_id);
  if (it == records_.end() || it->second.connections == 0) return nullptr;
  return &it->second;
}

}  // namespace obgw::gateway
