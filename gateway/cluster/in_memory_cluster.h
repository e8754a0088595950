#ifndef OBGW_GATEWAY_CLUSTER_IN_MEMORY_CLUSTER_H_
#define OBGW_GATEWAY_CLUSTER_IN_MEMORY_CLUSTER_H_

#include <chrono>
#include <cstddef>

#include "gateway/cluster/cluster.h"
#include "gateway/cluster/in_memory_session_store.h"
#include "gateway/cluster/in_process_broker.h"

namespace obgw::gateway {

// A cluster of one node (no --redis_url): this node orders every book itself
// (InProcessBroker: a restart starts a new epoch) and keeps its sessions in
// memory (InMemorySessionStore). No threads of its own, always healthy.
//
// Threads: created and destroyed by the node's owner; its parts say where
// they are called.
class InMemoryCluster : public Cluster {
 public:
  // `session_ttl`: how long a client_id's subscriptions are kept after its
  // last connection closed; `per_client_limit`: open connections one
  // client_id may have.
  InMemoryCluster(std::chrono::milliseconds session_ttl, std::size_t per_client_limit)
      : broker_(InProcessBroker::EpochNow()), sessions_(session_ttl, per_client_limit) {}

  Broker& broker() override { return broker_; }
  SessionStore& sessions() override { return sessions_; }

  // The factory of a node's default cluster.
  static ClusterFactory Factory(std::chrono::milliseconds session_ttl,
                                std::size_t per_client_limit);

 private:
  InProcessBroker broker_;
  InMemorySessionStore sessions_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_CLUSTER_IN_MEMORY_CLUSTER_H_
