#include "gateway/server/connection_limits.h"

namespace obgw::gateway {

ConnectionLimits::Verdict ConnectionLimits::Admit(const std::string& client_id) {
  MutexLock lock(mutex_);
  if (open_ >= per_node_) return Verdict::kNodeLimit;
  auto [it, inserted] = per_client_open_.try_emplace(client_id, 0);
  if (it->second >= per_client_) return Verdict::kClientLimit;
  ++it->second;
  ++open_;
  return Verdict::kAdmitted;
}

void ConnectionLimits::Release(const std::string& client_id) {
  MutexLock lock(mutex_);
  auto it = per_client_open_.find(client_id);
  if (it == per_client_open_.end()) return;
  --open_;
  // An id with no connection left takes no memory.
  if (--it->second == 0) per_client_open_.erase(it);
}

}  // namespace obgw::gateway
