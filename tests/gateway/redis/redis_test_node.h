#ifndef OBGW_TESTS_GATEWAY_REDIS_REDIS_TEST_NODE_H_
#define OBGW_TESTS_GATEWAY_REDIS_REDIS_TEST_NODE_H_

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "gateway/metrics/redis_stats.h"
#include "gateway/metrics/session_stats.h"
#include "gateway/redis/node_registry.h"
#include "gateway/redis/redis_connection.h"
#include "gateway/redis/redis_session_store.h"
#include "gateway/redis/redis_url.h"

namespace obgw::gateway {

// What a cluster node has for sessions, on a Redis thread the test drives
// (tests/gateway/redis/redis_test.h): a commands connection, its NodeRegistry
// and its RedisSessionStore.
struct RedisTestNode {
  RedisTestNode(boost::asio::io_context& io, const std::string& url, const std::string& node_id,
                std::size_t per_client_limit, std::chrono::milliseconds ttl,
                std::chrono::milliseconds lease)
      : connection(io, ConnectionOptions(url), redis_stats),
        registry(
            io, connection, RegistryOptions(node_id, lease),
            [this] { return sessions.open_connections(); }, stats),
        sessions(io, connection, registry, {node_id, ttl, per_client_limit}, stats) {}

  static RedisConnection::Options ConnectionOptions(const std::string& url) {
    RedisConnection::Options options;
    auto endpoint = ParseRedisUrl(url);
    EXPECT_TRUE(endpoint.ok()) << endpoint.status();
    if (endpoint.ok()) options.endpoint = *endpoint;
    options.name = "commands";
    options.connect_timeout = std::chrono::milliseconds(500);
    options.command_timeout = std::chrono::milliseconds(300);
    options.backoff_min = std::chrono::milliseconds(10);
    options.backoff_max = std::chrono::milliseconds(100);
    return options;
  }
  static NodeRegistry::Options RegistryOptions(const std::string& node_id,
                                               std::chrono::milliseconds lease) {
    NodeRegistry::Options options;
    options.node_id = node_id;
    options.address = "127.0.0.1:0";
    options.interval = std::chrono::milliseconds(50);
    options.lease = lease;
    return options;
  }

  // On the Redis thread, as RedisCluster does.
  void Start() {
    connection.Start([this](bool up, const std::string&) { sessions.OnRedisState(up); });
    registry.Start();
    sessions.Start();
  }
  void Stop() {
    registry.Stop();
    sessions.Stop();
    connection.Stop();
  }

  RedisStats redis_stats;
  SessionStats stats;
  RedisConnection connection;
  NodeRegistry registry;
  RedisSessionStore sessions;
};

}  // namespace obgw::gateway

#endif  // OBGW_TESTS_GATEWAY_REDIS_REDIS_TEST_NODE_H_
