#ifndef OBGW_GATEWAY_REDIS_REDIS_BROKER_H_
#define OBGW_GATEWAY_REDIS_REDIS_BROKER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/base/thread_annotations.h>
#include <absl/container/flat_hash_set.h>
#include <boost/asio/io_context.hpp>

#include "gateway/fanout/broker.h"
#include "gateway/fanout/update_queue.h"
#include "gateway/metrics/redis_stats.h"
#include "gateway/redis/book_outbox.h"
#include "gateway/redis/redis_connection.h"
#include "gateway/redis/redis_script.h"

namespace obgw::gateway {

// The Broker of a cluster node: one seq per symbol for the whole cluster,
// kept in Redis. A Lua script (kPublishScript) gives each book its position
// atomically: HINCRBY of the symbol's seq in the stream hash
// obgw:{s:SYM}:book (created with the cluster epoch if missing), HSET of the
// last book, and PUBLISH "<seq> <epoch> <node_id> <publish_us>\n<data>" on
// obgw:{s:SYM}:books. The hash tag {s:SYM} puts a symbol's key and channel in
// one slot, as Redis Cluster's sharded pub/sub needs.
//
// One EVALSHA carries several books (those waiting when the Redis thread
// takes from the outbox, up to books_per_script) and answers each one's
// {seq, epoch}: fewer round trips and context switches per book.
//
// Overload: at most books_in_flight books are in scripts Redis has not
// answered; the others wait in the BookOutbox, one per symbol, the latest
// (a book replaced there is counted broker_conflated and its on_routed(0)
// runs). So a saturated Redis costs conflation, never a queue that grows
// until the connection's command timeout tears it down: that timeout fires
// only for a Redis that stalls on the few scripts actually sent.
//
// The cluster epoch (obgw:epoch, set once with Redis' TIME in microseconds)
// is read on every (re)connect: it changes only when Redis lost its data, so
// a symbol's seq may have restarted. While the commands connection is down,
// the node orders its own books itself under a local epoch, a microsecond
// timestamp taken when the outage began (unique per outage and node).
//
// A book of this node comes back to its own clients through the script's
// reply (pushed into the UpdateQueue with its position), not through pub/sub:
// the subscriber drops messages carrying this node's id. A book Redis did not
// order (down, timed out, an error) goes back to the hub with position zero
// and one more retry; the hub sequences it again (locally if Redis is still
// down) unless a later book of this node was routed meanwhile.
//
// Owns the followed symbols, the hand-off of books from the hub to the Redis
// thread and the UpdateQueue producer token of the Redis thread; uses the
// two connections the RedisCluster owns.
// Threads: Sequence, Follow, Unfollow on the hub thread (they post to the
// Redis thread, never block); epoch() on any thread; everything else on the
// Redis thread (the io_context's).
class RedisBroker : public Broker {
 public:
  // Gives up on Redis for a book after this many hand-backs and orders it
  // locally (a script that keeps failing must not loop a book forever).
  static constexpr std::uint32_t kMaxRetries = 3;

  struct Limits {
    // Books sent in scripts not answered yet: enough to keep Redis busy
    // (several scripts pipelined), few enough that Redis answers the last
    // one within milliseconds.
    std::size_t books_in_flight = 512;
    // Books in one EVALSHA.
    std::size_t books_per_script = 64;
  };

  // Every reference outlives the broker. `node_id`: this node's, in every
  // book it publishes.
  RedisBroker(boost::asio::io_context& io, RedisConnection& commands, RedisConnection& pubsub,
              UpdateQueue& queue, RedisStats& stats, std::string node_id, Limits limits);
  RedisBroker(boost::asio::io_context& io, RedisConnection& commands, RedisConnection& pubsub,
              UpdateQueue& queue, RedisStats& stats, std::string node_id)
      : RedisBroker(io, commands, pubsub, queue, stats, std::move(node_id), Limits{}) {}

  // Hub thread.
  bool Sequence(BookUpdate& update, StreamPosition last) override;
  void Follow(const std::string& symbol) override;
  void Unfollow(const std::string& symbol) override;
  // The cluster epoch while Redis is up, the local epoch while it is not.
  std::uint64_t epoch() const override;

  // Redis thread: before the connections start.
  void Start();
  // Redis thread: the commands connection went up or down (RedisCluster
  // forwards its state).
  void OnCommandsState(bool up);
  // Whether books go to Redis now (commands up, cluster epoch known).
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  // Redis thread: books in scripts Redis has not answered.
  std::size_t books_in_flight() const { return books_in_flight_; }
  // Any thread: books waiting in the outbox.
  std::size_t books_waiting() const { return outbox_.size(); }

  // Names, shared with tests and docs.
  static std::string StreamKey(std::string_view symbol);
  static std::string Channel(std::string_view symbol);
  // The symbol of one of those channels; nullopt for any other name.
  static std::optional<std::string_view> SymbolOfChannel(std::string_view channel);
  static constexpr std::string_view kEpochKey = "obgw:epoch";

 private:
  using Batch = std::vector<OutgoingBook>;

  // Sends what the outbox holds, as far as the in-flight bound allows.
  void DrainOutbox();
  void Publish(std::shared_ptr<Batch> batch);
  void OnPublished(Batch& batch, const RedisReply* reply);
  void HandBack(BookUpdate update);
  void ReadEpoch();
  void FetchLast(const std::string& symbol);
  void OnMessage(std::string_view channel, std::string_view payload);
  // Books for the hub wait in to_hub_ until the current handler is done (or
  // FlushToHub), then go in one bulk enqueue.
  void Push(BookUpdate update);
  void FlushToHub();
  bool InRedisThread() const { return io_.get_executor().running_in_this_thread(); }
  static std::uint64_t NowMicros();

  boost::asio::io_context& io_;
  RedisConnection& commands_;
  RedisConnection& pubsub_;
  UpdateQueue& queue_;
  RedisStats& stats_;
  const std::string node_id_;
  const RedisScript publish_script_;
  const RedisScript epoch_script_;
  const Limits limits_;

  std::atomic<bool> ready_{false};
  std::atomic<std::uint64_t> cluster_epoch_{0};
  std::atomic<std::uint64_t> local_epoch_;

  // Hub thread -> Redis thread: books to publish.
  BookOutbox outbox_;

  // Redis thread only.
  std::size_t books_in_flight_ = 0;
  UpdateQueue::Token token_;
  std::vector<HubMessage> to_hub_;
  bool flush_posted_ = false;
  absl::flat_hash_set<std::string> followed_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_REDIS_REDIS_BROKER_H_
