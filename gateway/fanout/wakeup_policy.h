#ifndef OBGW_GATEWAY_FANOUT_WAKEUP_POLICY_H_
#define OBGW_GATEWAY_FANOUT_WAKEUP_POLICY_H_

#include <sched.h>

namespace obgw::gateway {

// Makes the calling thread one that, when woken, waits for its turn instead
// of preempting the thread running on its core (Linux SCHED_BATCH, same
// priority and share of the CPU as any other thread; no privilege needed).
//
// Why the hub runs so: every producer that queues a book wakes it. Sharing a
// core with an I/O shard, the default policy switches to the hub at each
// wakeup, so it routes one book per batch and every subscriber gets one frame
// per write. Waiting for its turn, it takes the books every publisher queued
// meanwhile in one batch, and the shard writes them to each connection at
// once (docs/performance.md, "Per-core fan-out": 1.7x delivered/s on one
// core). On an idle core it still runs at once.
// Returns false when the kernel refused (the thread keeps its policy).
inline bool WaitForTurnWhenWoken() {
  sched_param param{};
  return sched_setscheduler(0, SCHED_BATCH, &param) == 0;
}

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_FANOUT_WAKEUP_POLICY_H_
