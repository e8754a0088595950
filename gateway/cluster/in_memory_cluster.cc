#include "gateway/cluster/in_memory_cluster.h"

#include <memory>

namespace obgw::gateway {

ClusterFactory InMemoryCluster::Factory(std::chrono::milliseconds session_ttl) {
  return [session_ttl](UpdateQueue&) -> std::unique_ptr<Cluster> {
    return std::make_unique<InMemoryCluster>(session_ttl);
  };
}

}  // namespace obgw::gateway
