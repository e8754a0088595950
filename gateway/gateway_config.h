#ifndef OBGW_GATEWAY_GATEWAY_CONFIG_H_
#define OBGW_GATEWAY_GATEWAY_CONFIG_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include <boost/json/object.hpp>

namespace obgw::gateway {

// Settings of the HTTP/WebSocket side, filled from flags by main.cc. Read-only
// once the gateway starts, so every thread may read it.
struct GatewayConfig {
  std::string bind = "0.0.0.0";
  std::uint16_t http_port = 8002;
  std::uint32_t threads = 1;
  // Largest POST body accepted (413 above it).
  std::size_t max_body_bytes = 1 << 20;
  // Largest inbound WebSocket message (close 1009 above it).
  std::size_t max_frame_bytes = 64 << 10;
  // Subscriptions one connection may hold.
  std::size_t max_subscriptions = 50;
  // Books one connection may have queued before conflation starts.
  std::size_t session_queue_frames = 256;
  // Queue depth at which REST answers 503 and gRPC streams pause.
  std::size_t queue_high_water = 8192;
  // How long a WebSocket handshake or an idle HTTP connection may take.
  std::chrono::seconds handshake_timeout{30};
  // Adds counters of other components (ingest) to GET /stats; called on a
  // shard thread, must only read atomics.
  std::function<void(boost::json::object&)> extra_stats;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_GATEWAY_CONFIG_H_
