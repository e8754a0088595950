#ifndef OBGW_GATEWAY_CLUSTER_SESSION_STORE_H_
#define OBGW_GATEWAY_CLUSTER_SESSION_STORE_H_

#include <functional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

namespace obgw::gateway {

// Remembers what each client_id is subscribed to, across its connections and
// for a TTL after the last of them closes, so a client that reconnects (to
// this node, or in a cluster to any node) gets its subscriptions back.
// Implementations: InMemorySessionStore (one node, the embedded default); a
// Redis store for a cluster comes later.
//
// Threads: called from the I/O shards, any number at once. No call blocks its
// caller: a store that has to ask elsewhere (Redis) answers asynchronously,
// and every answer is posted to the executor the caller names (its shard's),
// never run inside the call. Updates (AddSymbol, RemoveSymbol, Close) take
// effect in the order one caller makes them; they have no answer.
class SessionStore {
 public:
  // Sorted, each symbol once.
  using Symbols = std::vector<std::string>;
  using Loaded = std::function<void(Symbols symbols)>;

  virtual ~SessionStore() = default;

  // A connection of `client_id` opened. `loaded` runs on `executor` with the
  // symbols the id is subscribed to: those of its other open connections or,
  // within the TTL after its last one closed, those it had then; empty for a
  // new id or an expired one. The id is kept while it has a connection.
  virtual void Open(const std::string& client_id, boost::asio::any_io_executor executor,
                    Loaded loaded) = 0;
  // Between Open and Close of one of its connections: the id follows, or no
  // longer follows, `symbol`. Ignored for an id with no open connection.
  virtual void AddSymbol(const std::string& client_id, const std::string& symbol) = 0;
  virtual void RemoveSymbol(const std::string& client_id, const std::string& symbol) = 0;
  // A connection of `client_id` closed (once per Open). When it was the last
  // one, the id's symbols are kept for the TTL, then forgotten.
  virtual void Close(const std::string& client_id) = 0;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_CLUSTER_SESSION_STORE_H_
