#ifndef OBGW_GATEWAY_REDIS_REDIS_SESSION_STORE_H_
#define OBGW_GATEWAY_REDIS_REDIS_SESSION_STORE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <absl/container/flat_hash_set.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/cluster/in_memory_session_store.h"
#include "gateway/cluster/session_store.h"
#include "gateway/metrics/session_stats.h"
#include "gateway/redis/node_registry.h"
#include "gateway/redis/redis_connection.h"
#include "gateway/redis/redis_script.h"

namespace obgw::gateway {

// The SessionStore of a cluster node: sessions and the per-client_id
// connection limit kept in Redis, so they hold across nodes and survive a
// node that dies.
//
// Keys (hash-tagged: one slot per client, so both keys of an id sit on one
// Redis Cluster node and one script may touch both):
//   obgw:{c:ID}:conns    HASH node_id -> that node's open connections of ID
//   obgw:{c:ID}:symbols  SET of the id's symbols
// OPEN (one script): sums the counts of the nodes not known dead (the
// NodeRegistry's dead ones are deleted), refuses at the limit, else HINCRBYs
// this node, PEXPIREs both keys and answers SMEMBERS when this node had no
// connection of the id (the restore rule, session_store.h). CLOSE: HINCRBY -1
// (HDEL at 0), PEXPIRE. A timer re-PEXPIREs the keys of every id open on this
// node every TTL/3, so an open session never expires, and a dead node's
// sessions expire one TTL after it died.
//
// Redis down or slow (null replies): answers from the in-memory mirror, an
// InMemorySessionStore kept in step with every update (the limit is then per
// node; restore from what this node saw), counted in session_opens_local.
// When Redis is back, this node's ids are re-registered (HSET its count,
// SADD its symbols, PEXPIRE) before any other command: the connection sends
// in order, so every later OPEN sees them.
//
// Owns the mirror, the refresh timer and the set of ids touched while Redis
// was away. Threads: the SessionStore calls on any shard, each posted to the
// Redis thread, where everything else runs (asserted); answers are posted to
// the caller's executor.
class RedisSessionStore : public SessionStore {
 public:
  struct Options {
    std::string node_id;
    std::chrono::milliseconds ttl{300000};
    std::size_t per_client_limit = 10;
  };
  // Redis keys expire after at least this long, whatever --session_ttl_ms:
  // a shorter TTL would race the refresh of open sessions.
  static constexpr std::chrono::milliseconds kMinKeyTtl{1000};

  static std::string ConnectionsKey(std::string_view client_id);
  static std::string SymbolsKey(std::string_view client_id);

  // `redis` (the commands connection), `registry` and `stats` outlive the
  // store.
  RedisSessionStore(boost::asio::io_context& io, RedisConnection& redis,
                    const NodeRegistry& registry, Options options, SessionStats& stats);

  // SessionStore; any shard thread.
  void Open(const std::string& client_id, boost::asio::any_io_executor executor,
            OpenCallback opened) override;
  void AddSymbol(const std::string& client_id, const std::string& symbol) override;
  void RemoveSymbol(const std::string& client_id, const std::string& symbol) override;
  void Close(const std::string& client_id) override;

  // Redis thread: starts and stops the refresh timer.
  void Start();
  void Stop();
  // Redis thread: the commands connection went up (resynchronise) or down.
  void OnRedisState(bool up);
  // Redis thread: connections this store admitted and has not closed.
  std::uint64_t open_connections() const { return open_connections_; }

 private:
  bool InThisThread() const;
  void OpenHere(const std::string& client_id, boost::asio::any_io_executor executor,
                OpenCallback opened);
  // The mirror answers (Redis down or slow, or a bad reply).
  void OpenLocally(const std::string& client_id, boost::asio::any_io_executor executor,
                   OpenCallback opened);
  void Admitted();
  // Whether commands go to Redis now; otherwise the id is marked for the
  // resynchronisation.
  bool ToRedis(const std::string& client_id);
  // A reply to an update: null is Redis away (the resync repairs it), an
  // error is counted.
  RedisConnection::ReplyCallback CountErrors();
  void Resync();
  void ScheduleRefresh();
  void Refresh();

  boost::asio::io_context& io_;
  RedisConnection& redis_;
  const NodeRegistry& registry_;
  const Options options_;
  const std::string key_ttl_ms_;
  SessionStats& stats_;
  const RedisScript open_script_;
  const RedisScript close_script_;
  // This node's view, kept in step with every update (Redis thread only
  // writes it, so it stays in the order of the updates).
  InMemorySessionStore mirror_;
  // Ids whose Redis state this node may have left stale while Redis was
  // away (updated only in the mirror).
  absl::flat_hash_set<std::string> stale_;
  boost::asio::steady_timer refresh_timer_;
  bool running_ = false;
  std::uint64_t open_connections_ = 0;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_REDIS_REDIS_SESSION_STORE_H_
