#ifndef OBGW_GATEWAY_HUB_H_
#define OBGW_GATEWAY_HUB_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "gateway/frame.h"
#include "gateway/gateway_stats.h"
#include "gateway/update_frame.h"
#include "gateway/update_queue.h"

namespace obgw::gateway {

// The sequencer between producers and I/O shards. Runs on its own thread.
//
// Owns all per-symbol state: the seq counter and how many subscribers each
// shard has (a symbol's entry stays once seen, so its seq never restarts). For each book it assigns
// the next seq, renders the client frame once, and hands it to every shard with subscribers,
// batched: one hand-off per shard per bulk dequeue, never one per subscriber. Subscription changes
// pass through the same queue, so a subscription is live (counted) before its confirmation is sent,
// and every book dequeued after it reaches the new subscriber.
class Hub {
 public:
  // Hands a batch of frames to shard `shard`; called on the hub thread, must
  // not block (it posts to the shard's io_context).
  using Dispatch = std::function<void(std::uint32_t shard, std::vector<FramePtr> frames)>;

  Hub(UpdateQueue& queue, std::uint32_t shard_count, Dispatch dispatch, HubStats& stats);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  void Start();
  // Processes what is already queued, then stops and joins the thread.
  void Stop();

  // One loop iteration: dequeue up to a batch, route it, dispatch. Returns
  // the number of messages processed. Public so tests can drive the hub
  // without its thread.
  std::size_t RunOnce(std::chrono::microseconds wait);

 private:
  struct SymbolState {
    std::uint64_t seq = 0;
    std::uint32_t subscribers = 0;
    std::vector<std::uint32_t> per_shard;
  };

  void Route(BookUpdate& update);
  void Apply(SubscriptionChange& change);
  void DispatchPending();

  UpdateQueue& queue_;
  const std::uint32_t shard_count_;
  Dispatch dispatch_;
  HubStats& stats_;
  absl::flat_hash_map<std::string, SymbolState> symbols_;
  std::vector<std::vector<FramePtr>> pending_;  // Per shard, this batch.
  std::vector<HubMessage> batch_;
  IsoClock clock_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_HUB_H_
