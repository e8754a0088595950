#ifndef OBGW_GATEWAY_CLUSTER_IN_MEMORY_SESSION_STORE_H_
#define OBGW_GATEWAY_CLUSTER_IN_MEMORY_SESSION_STORE_H_

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <absl/base/thread_annotations.h>
#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include "gateway/fanout/mutex.h"

#include "gateway/cluster/session_store.h"

namespace obgw::gateway {

// The SessionStore of a single node: every client_id with an open connection
// or within its TTL, in memory. Admits at most `per_client_limit` open
// connections per id; this node is the whole cluster, so "the id's only
// connection on this node" is its only connection.
//
// Owns one record per such id (open connections, symbols, expiry) and a
// queue of pending expiries in the order they fall due. Expired ids are
// forgotten by the next call (any id's), so memory follows the ids seen in
// the last TTL without a timer thread.
//
// Threads: any shard thread; every call takes the mutex for a few map
// operations and never runs a callback under it (Open posts its answer to the
// caller's executor). Subscription changes are per client action, never on
// the fan-out path, so a mutex is cheap here.
class InMemorySessionStore : public SessionStore {
 public:
  using Clock = std::chrono::steady_clock;
  // Injected so tests use simulated time.
  using Now = std::function<Clock::time_point()>;

  InMemorySessionStore(Clock::duration ttl, std::size_t per_client_limit, Now now = Clock::now)
      : ttl_(ttl), per_client_limit_(per_client_limit), now_(std::move(now)) {}

  void Open(const std::string& client_id, boost::asio::any_io_executor executor,
            OpenCallback opened) override;
  void AddSymbol(const std::string& client_id, const std::string& symbol) override;
  void RemoveSymbol(const std::string& client_id, const std::string& symbol) override;
  void Close(const std::string& client_id) override;

  // Ids held (open, or closed within the TTL), after forgetting expired ones.
  std::size_t size();
  // Open connections of `client_id` (0 for an unknown id).
  std::size_t connections(const std::string& client_id);

  // What the store holds for one id (a Redis store resynchronises from it).
  struct ClientState {
    std::size_t connections = 0;
    Symbols symbols;  // Sorted.
  };
  // The id's record (open, or closed within the TTL), or nullopt.
  std::optional<ClientState> Find(const std::string& client_id);
  // The ids with at least one open connection, in no particular order.
  std::vector<std::string> OpenClients();

 private:
  struct Record {
    std::size_t connections = 0;
    absl::flat_hash_set<std::string> symbols;
    Clock::time_point expires;  // Once `connections` is 0.
  };
  struct Expiry {
    Clock::time_point due;
    std::string client_id;
  };

  // Forgets the ids whose TTL ran out by `now`.
  void Expire(Clock::time_point now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The record of an id with an open connection, or null.
  Record* OpenRecord(const std::string& client_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const Clock::duration ttl_;
  const std::size_t per_client_limit_;
  const Now now_;
  Mutex mutex_;
  absl::flat_hash_map<std::string, Record> records_ ABSL_GUARDED_BY(mutex_);
  // Due times never decrease along it (one TTL, a monotonic clock); an entry
  // whose record was reopened since is skipped when it falls due.
  std::deque<Expiry> expiries_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_CLUSTER_IN_MEMORY_SESSION_STORE_H_
