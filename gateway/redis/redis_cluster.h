#ifndef OBGW_GATEWAY_REDIS_REDIS_CLUSTER_H_
#define OBGW_GATEWAY_REDIS_REDIS_CLUSTER_H_

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <absl/base/thread_annotations.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "gateway/cluster/cluster.h"
#include "gateway/fanout/mutex.h"
#include "gateway/metrics/redis_stats.h"
#include "gateway/metrics/session_stats.h"
#include "gateway/redis/node_registry.h"
#include "gateway/redis/redis_broker.h"
#include "gateway/redis/redis_connection.h"
#include "gateway/redis/redis_session_store.h"
#include "gateway/redis/redis_url.h"

namespace obgw::gateway {

// A node of a cluster that shares one Redis (--redis_url): books ordered and
// fanned out through Redis (RedisBroker), sessions and the per-client_id
// limit kept there (RedisSessionStore), this node's lease in the node
// registry (NodeRegistry).
//
// Owns the Redis thread (an io_context run by one std::thread, where every
// Redis call happens), the two connections ("commands": scripts and reads;
// "pubsub": subscriber mode), the broker, the registry and the session
// store, and the stats of all of them. Degraded ("redis unreachable:
// <reason>") while the commands connection is down, or while it is up but the
// cluster epoch is not known; the node keeps serving its own clients
// meanwhile. Each change of the commands connection's state is a
// cluster_healthy or cluster_degraded log line (issue 13).
//
// Threads: constructed, started, stopped and destroyed by the node's owner;
// broker() and sessions() are called where their interfaces say; the
// connections' state changes arrive on the Redis thread; DegradedReason and
// Stats from any thread.
class RedisCluster : public Cluster {
 public:
  struct Options {
    RedisEndpoint endpoint;
    std::string node_id;
    // Connect and command timeout of both connections (--redis_timeout_ms).
    std::chrono::milliseconds timeout{1000};
    std::chrono::milliseconds session_ttl{300000};
    std::size_t max_connections_per_client = 10;
    // This node's HTTP address, shown in the node registry.
    std::string http_address;
  };

  RedisCluster(Options options, UpdateQueue& queue);
  ~RedisCluster() override;

  Broker& broker() override { return broker_; }
  SessionStore& sessions() override { return sessions_; }
  // Starts the Redis thread; connecting happens there (a node comes up
  // degraded if Redis is not there yet, and keeps trying).
  void Start() override;
  // Closes both connections (pending callbacks end) and joins the thread.
  void Stop() override;
  std::string DegradedReason() const override;
  std::vector<RegisteredStat> Stats() const override;
  std::vector<RegisteredHistogram> Histograms() const override;

  // The factory of a cluster node, for Gateway.
  static ClusterFactory Factory(Options options);

 private:
  RedisConnection::Options ConnectionOptions(const std::string& name) const;
  void SetDegraded(std::string reason);

  const Options options_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  RedisStats stats_;
  RedisConnection commands_;
  RedisConnection pubsub_;
  RedisBroker broker_;
  SessionStats session_stats_;
  NodeRegistry registry_;
  RedisSessionStore sessions_;
  std::thread thread_;
  mutable Mutex degraded_mutex_;
  std::string degraded_ ABSL_GUARDED_BY(degraded_mutex_);
  // The state the last cluster_healthy/cluster_degraded line told (Redis
  // thread only).
  std::optional<bool> healthy_logged_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_REDIS_REDIS_CLUSTER_H_
