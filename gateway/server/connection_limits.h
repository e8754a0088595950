#ifndef OBGW_GATEWAY_SERVER_CONNECTION_LIMITS_H_
#define OBGW_GATEWAY_SERVER_CONNECTION_LIMITS_H_

#include <atomic>
#include <cstddef>

namespace obgw::gateway {

// Counts this node's open WebSocket connections and admits a new one only
// under the per-node limit (--max_connections, close 1013). The per-client_id
// limit is the SessionStore's (it may span a cluster).
//
// Shared by every shard: called once when a connection opens and once when
// it closes (never on the fan-out path); lock-free.
class ConnectionLimits {
 public:
  explicit ConnectionLimits(std::size_t per_node) : per_node_(per_node) {}

  // True counts the connection; the caller must Release it later.
  bool Admit();
  void Release();

 private:
  const std::size_t per_node_;
  std::atomic<std::size_t> open_{0};
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_SERVER_CONNECTION_LIMITS_H_
