#include "gateway/cluster/in_memory_session_store.h"

#include <algorithm>

#include <boost/asio/post.hpp>

namespace obgw::gateway {

void InMemorySessionStore::Open(const std::string& client_id, boost::asio::any_io_executor executor,
                                OpenCallback opened) {
  Opened answer;
  {
    MutexLock lock(mutex_);
    Expire(now_());
    auto [it, inserted] = records_.try_emplace(client_id);
    Record& record = it->second;
    answer.admitted = record.connections < per_client_limit_;
    if (answer.admitted) {
      // The only connection: it takes the session over (a sibling already
      // follows the symbols otherwise).
      if (record.connections == 0) {
        answer.restore.assign(record.symbols.begin(), record.symbols.end());
      }
      ++record.connections;
    } else if (inserted) {
      records_.erase(it);  // Refused (a limit of 0): nothing to keep.
    }
  }
  std::sort(answer.restore.begin(), answer.restore.end());
  boost::asio::post(executor, [opened = std::move(opened), answer = std::move(answer)]() mutable {
    opened(std::move(answer));
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

std::size_t InMemorySessionStore::connections(const std::string& client_id) {
  MutexLock lock(mutex_);
  Expire(now_());
  auto it = records_.find(client_id);
  return it == records_.end() ? 0 : it->second.connections;
}

std::optional<InMemorySessionStore::ClientState> InMemorySessionStore::Find(
    const std::string& client_id) {
  ClientState state;
  {
    MutexLock lock(mutex_);
    Expire(now_());
    auto it = records_.find(client_id);
    if (it == records_.end()) return std::nullopt;
    state.connections = it->second.connections;
    state.symbols.assign(it->second.symbols.begin(), it->second.symbols.end());
  }
  std::sort(state.symbols.begin(), state.symbols.end());
  return state;
}

std::vector<std::string> InMemorySessionStore::OpenClients() {
  MutexLock lock(mutex_);
  Expire(now_());
  std::vector<std::string> open;
  for (const auto& [client_id, record] : records_) {
    if (record.connections > 0) open.push_back(client_id);
  }
  return open;
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
