#ifndef OBGW_GATEWAY_REDIS_NODE_REGISTRY_H_
#define OBGW_GATEWAY_REDIS_NODE_REGISTRY_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/metrics/session_stats.h"
#include "gateway/redis/redis_connection.h"
#include "gateway/redis/redis_reply.h"
#include "gateway/redis/redis_script.h"

namespace obgw::gateway {

// This node's lease in the cluster's node registry, and the registry's view
// of the live nodes.
//
// Every `interval` (500 ms) one script renews the lease: `obgw:{nodes}` is a
// ZSET node_id -> lease expiry (Redis TIME in ms, so no node's clock
// matters), `obgw:{nodes}:info` a HASH node_id -> "<connections> <address>".
// The same script moves the expired leases to `obgw:{nodes}:dead` (ZSET
// node_id -> when it was found dead, kept kDeadRetention) and answers the
// live nodes with their info, and the dead ones. A node that dies (SIGKILL)
// stops renewing and is dead one lease (3 s) later: its connections stop
// counting against the per-client_id limit (RedisSessionStore's OPEN script
// gets the dead ids and drops their counts) and in cluster_connections.
// Dead, not "not live": a node that joined since this node's last renewal is
// in no list yet, and its connections must count.
//
// Owns the renewal timer and the last view. Threads: every method on the
// Redis thread (asserted); the stats it sets are read from any thread.
class NodeRegistry {
 public:
  static constexpr std::string_view kNodesKey = "obgw:{nodes}";
  static constexpr std::string_view kInfoKey = "obgw:{nodes}:info";
  static constexpr std::string_view kDeadKey = "obgw:{nodes}:dead";
  // How long a dead node is remembered: longer than any session key lives
  // without a live node refreshing it.
  static constexpr std::chrono::hours kDeadRetention{24};

  struct Options {
    std::string node_id;
    // Shown in the registry next to the node's connections ("-" if empty).
    std::string address;
    std::chrono::milliseconds interval{500};
    std::chrono::milliseconds lease{3000};
  };
  // This node's open connections, asked on the Redis thread at each renewal.
  using LocalConnections = std::function<std::uint64_t()>;
  struct Node {
    std::string id;
    std::uint64_t connections = 0;
  };
  struct View {
    std::vector<Node> live;
    std::vector<std::string> dead;
  };

  // `redis` (the commands connection) and `stats` outlive the registry.
  NodeRegistry(boost::asio::io_context& io, RedisConnection& redis, Options options,
               LocalConnections local_connections, SessionStats& stats);

  // Renews now and every interval. Redis thread.
  void Start();
  // Stops renewing (the lease runs out by itself). Redis thread.
  void Stop();

  // Whether the view below is fresh: the last renewal answered less than a
  // lease ago.
  bool has_view() const;
  // The live nodes of the last answer (this one included once it renewed).
  const std::vector<Node>& live_nodes() const { return view_.live; }
  // The nodes found dead within kDeadRetention, as of the last answer.
  const std::vector<std::string>& dead_nodes() const { return view_.dead; }
  const std::string& node_id() const { return options_.node_id; }

  // Parses the script's answer ({{id, info, id, info, ...}, {dead id, ...}});
  // nullopt when it is of another shape. Public for tests.
  static std::optional<View> ParseView(const RedisReply& reply);

 private:
  bool InThisThread() const;
  void Renew();
  void OnAnswer(const RedisReply* reply);
  void ScheduleRenewal();

  boost::asio::io_context& io_;
  RedisConnection& redis_;
  const Options options_;
  const LocalConnections local_connections_;
  SessionStats& stats_;
  const RedisScript script_;
  boost::asio::steady_timer timer_;
  bool running_ = false;
  bool renewal_in_flight_ = false;
  View view_;
  std::optional<std::chrono::steady_clock::time_point> answered_at_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_REDIS_NODE_REGISTRY_H_
