#ifndef OBGW_GATEWAY_CLUSTER_SESSION_STORE_H_
#define OBGW_GATEWAY_CLUSTER_SESSION_STORE_H_

#include <functional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

namespace obgw::gateway {

// Admits each client_id's connections under the per-client_id connection
// limit (--max_connections_per_client) and remembers what the id is
// subscribed to, across its connections and for a TTL (--session_ttl_ms)
// after the last of them closes, so a client that reconnects (to this node,
// or in a cluster to any node) gets its subscriptions back.
// Implementations: InMemorySessionStore (one node, the embedded default) and
// RedisSessionStore (gateway/redis, a cluster).
//
// The session belongs to the client_id, not to a connection: any connection
// subscribing adds a symbol, any unsubscribing removes it, and a connection
// closing removes none (they are what a reconnect gets back).
//
// Restore rule: a connection gets the id's symbols back when it is the id's
// only open connection *on this node* (not in the cluster). When a node dies
// (SIGKILL, power) the other nodes learn it only once its lease expires
// (seconds), yet its clients reconnect at once and must have their books
// back within a second; so a connection that arrives while the id still has
// connections elsewhere gets the union restored too. A second connection on
// the same node gets nothing: its sibling already follows those symbols.
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
  // The answer to Open.
  struct Opened {
    // Within the per-client_id limit; a refused connection is not counted
    // (and must not be Closed).
    bool admitted = false;
    // The id's symbols, when this is its only open connection on this node
    // and it is admitted; empty otherwise (and for a new or expired id).
    Symbols restore;
  };
  using OpenCallback = std::function<void(Opened opened)>;

  virtual ~SessionStore() = default;

  // A connection of `client_id` opens: `opened` runs on `executor` with the
  // verdict of the per-client_id limit and the symbols to restore. An
  // admitted connection is counted (and keeps the id) until its Close.
  virtual void Open(const std::string& client_id, boost::asio::any_io_executor executor,
                    OpenCallback opened) = 0;
  // Between an admitted Open and its Close: the id follows, or no longer
  // follows, `symbol`. Ignored for an id with no open connection.
  virtual void AddSymbol(const std::string& client_id, const std::string& symbol) = 0;
  virtual void RemoveSymbol(const std::string& client_id, const std::string& symbol) = 0;
  // An admitted connection of `client_id` closed (once per admitted Open).
  // When it was the last one, the id's symbols are kept for the TTL, then
  // forgotten.
  virtual void Close(const std::string& client_id) = 0;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_CLUSTER_SESSION_STORE_H_
