#ifndef OBGW_GATEWAY_SERVER_CONNECTION_LIMITS_H_
#define OBGW_GATEWAY_SERVER_CONNECTION_LIMITS_H_

#include <cstddef>
#include <string>

#include <absl/base/thread_annotations.h>
#include <absl/container/flat_hash_map.h>
#include "gateway/fanout/mutex.h"

namespace obgw::gateway {

// Counts open WebSocket connections per client_id and per node, and admits a
// new one only within both limits. Shared by every shard: called once when a
// connection opens and once when it closes (never on the fan-out path), so a
// mutex is cheap and simple here.
class ConnectionLimits {
 public:
  enum class Verdict { kAdmitted, kClientLimit, kNodeLimit };

  ConnectionLimits(std::size_t per_client, std::size_t per_node)
      : per_client_(per_client), per_node_(per_node) {}

  // kAdmitted counts the connection; the caller must Release it later.
  Verdict Admit(const std::string& client_id);
  void Release(const std::string& client_id);

 private:
  const std::size_t per_client_;
  const std::size_t per_node_;
  Mutex mutex_;
  absl::flat_hash_map<std::string, std::size_t> per_client_open_ ABSL_GUARDED_BY(mutex_);
  std::size_t open_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_SERVER_CONNECTION_LIMITS_H_
