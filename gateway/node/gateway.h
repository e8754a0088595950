#ifndef OBGW_GATEWAY_NODE_GATEWAY_H_
#define OBGW_GATEWAY_NODE_GATEWAY_H_

#include <chrono>
#include <memory>
#include <vector>

#include <absl/status/status.h>

#include "gateway/cluster/cluster.h"
#include "gateway/fanout/hub.h"
#include "gateway/server/gateway_config.h"
#include "gateway/server/listener.h"
#include "gateway/server/shard.h"
#include "gateway/server/shared_state.h"

namespace obgw::gateway {

// The HTTP/WebSocket side of one node: owns the shared state (queue, stats),
// the I/O shards, the hub and the listener, and starts and stops them in
// order. Its methods run on the caller's (main) thread.
class Gateway {
 public:
  // `make_cluster`: the node's cluster (empty: a cluster of one node, in
  // memory, keeping sessions for config.session_ttl and admitting
  // config.max_connections_per_client connections per client_id).
  explicit Gateway(GatewayConfig config, const ClusterFactory& make_cluster = {});
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

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
  std::unique_ptr<SharedState> state_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unique_ptr<Hub> hub_;
  std::shared_ptr<Listener> listener_;
  bool running_ = false;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_NODE_GATEWAY_H_
