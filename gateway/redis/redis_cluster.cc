#include "gateway/redis/redis_cluster.h"

#include <memory>

#include <boost/asio/post.hpp>

#include "gateway/logging/event_log.h"

namespace obgw::gateway {

RedisCluster::RedisCluster(Options options, UpdateQueue& queue)
    : options_(std::move(options)),
      work_(boost::asio::make_work_guard(io_)),
      commands_(io_, ConnectionOptions("commands"), stats_),
      pubsub_(io_, ConnectionOptions("pubsub"), stats_),
      broker_(io_, commands_, pubsub_, queue, stats_, options_.node_id),
      registry_(
          io_, commands_, {.node_id = options_.node_id, .address = options_.http_address},
          [this] { return sessions_.open_connections(); }, session_stats_),
      sessions_(io_, commands_, registry_,
                {.node_id = options_.node_id,
                 .ttl = options_.session_ttl,
                 .per_client_limit = options_.max_connections_per_client},
                session_stats_),
      degraded_("redis unreachable: connecting to " + options_.endpoint.Redacted()) {}

RedisCluster::~RedisCluster() { Stop(); }

RedisConnection::Options RedisCluster::ConnectionOptions(const std::string& name) const {
  RedisConnection::Options connection;
  connection.endpoint = options_.endpoint;
  connection.name = name;
  connection.connect_timeout = options_.timeout;
  connection.command_timeout = options_.timeout;
  // At most 1 s between attempts: a node is back within 2 s of its Redis.
  connection.backoff_max = std::chrono::milliseconds(1000);
  return connection;
}

void RedisCluster::Start() {
  if (thread_.joinable()) return;
  boost::asio::post(io_, [this] {
    broker_.Start();
    commands_.Start([this](bool up, const std::string& reason) {
      SetDegraded(up ? std::string() : "redis unreachable: " + reason);
      // The sessions' resync goes out first: every later OPEN sees it.
      sessions_.OnRedisState(up);
      broker_.OnCommandsState(up);
    });
    pubsub_.Start([](bool, const std::string&) {});
    // After commands_.Start: a connection not started drops callbacks.
    registry_.Start();
    sessions_.Start();
  });
  thread_ = std::thread([this] { io_.run(); });
}

void RedisCluster::Stop() {
  if (!thread_.joinable()) return;
  // Stopped connections re-arm nothing: once the guard is gone, run()
  // returns when the last handler (a cancelled timer, an aborted wait) ran.
  boost::asio::post(io_, [this] {
    registry_.Stop();
    sessions_.Stop();
    commands_.Stop();
    pubsub_.Stop();
    work_.reset();
  });
  thread_.join();
}

void RedisCluster::SetDegraded(std::string reason) {
  const bool healthy = reason.empty();
  {
    MutexLock lock(degraded_mutex_);
    degraded_ = reason;
  }
  if (healthy_logged_ == healthy) return;
  healthy_logged_ = healthy;
  // Event line (issue 13): the node serves its own clients only, or again
  // the cluster's. The reason names the endpoint redacted.
  if (reason.empty()) {
    LogEvent(LogKind::redis, spdlog::level::info, "cluster_healthy",
             [&](LogFields& line) { line.Add("node", options_.node_id); });
  } else {
    LogEvent(LogKind::redis, spdlog::level::warn, "cluster_degraded",
             [&](LogFields& line) { line.Add("node", options_.node_id).Add("reason", reason); });
  }
}

std::string RedisCluster::DegradedReason() const {
  {
    MutexLock lock(degraded_mutex_);
    if (!degraded_.empty()) return degraded_;
  }
  // Connected, but books are still ordered locally (for the few ms until
  // the epoch's reply, or for good when obgw:epoch holds garbage).
  if (!broker_.ready()) return "redis: cluster epoch not known yet (obgw:epoch)";
  return {};
}

std::vector<RegisteredStat> RedisCluster::Stats() const {
  std::vector<RegisteredStat> stats = BindStats(kRedisStatFields, stats_);
  std::vector<RegisteredStat> sessions = BindStats(kSessionStatFields, session_stats_);
  stats.insert(stats.end(), sessions.begin(), sessions.end());
  return stats;
}

std::vector<RegisteredHistogram> RedisCluster::Histograms() const {
  return BindHistograms(kRedisHistogramFields, stats_);
}

ClusterFactory RedisCluster::Factory(Options options) {
  return [options](UpdateQueue& queue) -> std::unique_ptr<Cluster> {
    return std::make_unique<RedisCluster>(options, queue);
  };
}

}  // namespace obgw::gateway
