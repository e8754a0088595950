#ifndef OBGW_GATEWAY_NODE_GATEWAY_H_
#define OBGW_GATEWAY_NODE_GATEWAY_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <absl/status/status.h>
#include <boost/asio/steady_timer.hpp>

#include "gateway/cluster/cluster.h"
#include "gateway/fanout/hub.h"
#include "gateway/http/status_report.h"
#include "gateway/server/gateway_config.h"
#include "gateway/server/listener.h"
#include "gateway/server/shard.h"
#include "gateway/server/shared_state.h"

namespace obgw::gateway {

// The HTTP/WebSocket side of one node: owns the shared state (queue, stats),
// the I/O shards, the hub and the listener, and starts and stops them in
// order, and the health check that tells a WatchHealth observer when the
// node's health (CurrentHealth, what GET /health says) changes. Its methods
// run on the caller's (main) thread.
class Gateway {
 public:
  // How often the health check looks (CurrentHealth: a few atomics and the
  // cluster's reason), on shard 0's thread.
  static constexpr std::chrono::milliseconds kHealthCheckInterval{100};
  using HealthObserver = std::function<void(const Health&)>;

  // `make_cluster`: the node's cluster (empty: a cluster of one node, in
  // memory, keeping sessions for config.session_ttl and admitting
  // config.max_connections_per_client connections per client_id).
  explicit Gateway(GatewayConfig config, const ClusterFactory& make_cluster = {});
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Calls `observer` on shard 0's thread with the node's health once it has
  // started, then each time it changes (looked at every
  // kHealthCheckInterval), until Stop begins. Call before Start, at most once.
  // `observer` must not block (the shard serves connections too).
  void WatchHealth(HealthObserver observer) { health_observer_ = std::move(observer); }

  // Binds the HTTP port (fails fast with a reason) and starts every thread.
  absl::Status Start();
  // First step of a shutdown: new HTTP and WebSocket connections are refused
  // (the port is closed); open ones are served as before.
  void StopAccepting();
  // Stops accepting, closes WebSockets with 1001, routes what is queued, and
  // joins every thread; waits at most `grace` for clients to close.
  void Stop(std::chrono::milliseconds grace);

  std::uint16_t http_port() const { return listener_ ? listener_->port() : 0; }
  // Where producers (the gRPC ingest) put books.
  UpdateQueue& queue() { return state_->queue; }
  SharedState& state() { return *state_; }

 private:
  // The health check: CheckHealth runs on shard 0's thread, between Start
  // and Stop; StopHealthCheck waits until it never runs again.
  void CheckHealth();
  void StopHealthCheck();

  std::unique_ptr<SharedState> state_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unique_ptr<Hub> hub_;
  std::shared_ptr<Listener> listener_;
  bool running_ = false;
  HealthObserver health_observer_;
  // Created on shard 0's io_context at Start, destroyed once the shards
  // have stopped.
  std::unique_ptr<boost::asio::steady_timer> health_timer_;
  std::optional<Health> last_health_;  // Shard 0's thread.
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_NODE_GATEWAY_H_
