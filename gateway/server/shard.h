#ifndef OBGW_GATEWAY_SERVER_SHARD_H_
#define OBGW_GATEWAY_SERVER_SHARD_H_

#include <cassert>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/fanout/clock.h"
#include "gateway/fanout/frame.h"
#include "gateway/fanout/frame_deflater.h"
#include "gateway/fanout/message_inflater.h"
#include "gateway/fanout/thread_affinity.h"
#include "gateway/server/shard_session.h"
#include "gateway/server/shared_state.h"

namespace obgw::gateway {

// One I/O thread and everything on it: an io_context, the HTTP and WebSocket
// sessions accepted onto it, the symbol -> sessions index used to fan out
// frames, and the sweep timer that polices every session (heartbeats, idle
// and slow clients) in one pass instead of a timer per connection. Sessions never move between
// shards, so nothing here is locked. Start, Stop, PostFrames, CloseAllSessions,
// io_context(), index(), state(), config(), clock(), affinity() and
// InThisThread() may be called from any thread (the listener creates sockets on io_context() from
// shard 0's thread; the hub posts frames); every other method runs on the shard's own thread and
// asserts so in debug builds. The sweep and the sessions read the time from `clock` (simulated in
// tests).
class Shard {
 public:
  Shard(std::uint32_t index, SharedState& state, const Clock& clock = Clock::Steady());
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  void Start();
  // Stops the io_context and joins the thread (any thread but this shard's).
  void Stop();

  // Any thread (the hub): queues a batch of frames for this shard's
  // subscribers. One post per batch, not one per frame or per subscriber.
  // `delivered` runs on the shard once the frames are queued.
  void PostFrames(std::vector<FramePtr> frames, std::function<void()> delivered);

  // Any thread: closes every WebSocket with 1001 "server shutting down".
  void CloseAllSessions();

  // Any thread: the executor (posting to it or creating I/O objects on it is
  // thread-safe), the shard's number, the shared state and the configuration.
  boost::asio::io_context& io_context() { return io_context_; }
  std::uint32_t index() const { return index_; }
  SharedState& state() { return state_; }
  const GatewayConfig& config() const { return state_.config; }
  // Whether the caller runs on this shard's thread (debug checks).
  bool InThisThread() const { return affinity_.InThisThread(); }
  // The thread, for the debug checks of objects the shard's sessions own.
  const ThreadAffinity& affinity() const { return affinity_; }
  // Where the shard and its sessions read the time.
  const Clock& clock() const { return clock_; }

  // Shard thread only, from here on.
  ShardStats& stats() { return stats_; }
  // This shard's producer token: its subscription changes and REST books stay
  // in order.
  UpdateQueue::Token& token() {
    assert(InThisThread());
    return token_;
  }
  // The time of the last sweep: a clock for heartbeats, without a clock
  // read per message.
  Clock::time_point now() const { return now_; }
  // Compresses frames for this shard's permessage-deflate connections; null
  // unless --ws_deflate.
  FrameDeflater* deflater() { return deflater_.get(); }
  // Decompresses client messages for the same connections; null unless
  // --ws_deflate.
  MessageInflater* inflater() { return inflater_.get(); }
  // Where sessions read their sockets into: one buffer per shard, since a
  // session reads only once its socket is readable and consumes what it read
  // before returning (an idle connection holds no read buffer).
  std::span<char> read_buffer() { return {read_buffer_.get(), kReadBufferBytes}; }

  void Register(ShardSession* session);
  void Unregister(ShardSession* session);
  void AddSubscriber(const std::string& symbol, ShardSession* session);
  void RemoveSubscriber(const std::string& symbol, ShardSession* session);

 private:
  void Deliver(const std::vector<FramePtr>& frames);
  void FlushQueued();
  void Sweep();

  const std::uint32_t index_;
  SharedState& state_;
  const Clock& clock_;
  ShardStats& stats_;
  UpdateQueue::Token token_;
  static constexpr std::size_t kReadBufferBytes = 16 << 10;

  std::unique_ptr<FrameDeflater> deflater_;
  std::unique_ptr<MessageInflater> inflater_;
  std::unique_ptr<char[]> read_buffer_ = std::make_unique<char[]>(kReadBufferBytes);
  absl::flat_hash_map<std::string, std::vector<ShardSession*>> subscribers_;
  absl::flat_hash_set<ShardSession*> sessions_;
  std::vector<ShardSession*> to_flush_;  // Sessions with books queued.
  bool flush_posted_ = false;
  Clock::time_point now_;
  ThreadAffinity affinity_;
  std::thread thread_;
  // Declared last, destroyed first: handlers it still holds release sessions,
  // whose cleanup uses the index above.
  boost::asio::io_context io_context_{1};
  boost::asio::steady_timer sweep_timer_{io_context_};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_SERVER_SHARD_H_
