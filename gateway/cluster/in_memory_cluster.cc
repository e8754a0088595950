#include "gateway/cluster/in_memory_cluster.h"

#include <memory>

namespace obgw::gateway {

ClusterFactory InMemoryCluster::Factory(std::chrono::milliseconds session_ttl,
                                        std::size_t per_client_limit) {
  return [session_ttl, per_client_limit](UpdateQueue&) -> std::unique_ptr<Cluster> {
    return std::make_unique<InMemoryCluster>(session_ttl, per_client_limit);
  };
}

}  // namespace obgw::gateway
