#ifndef OBGW_GATEWAY_REDIS_REDIS_CONNECTION_H_
#define OBGW_GATEWAY_REDIS_REDIS_CONNECTION_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/metrics/redis_stats.h"
#include "gateway/redis/redis_reply.h"
#include "gateway/redis/redis_script.h"
#include "gateway/redis/redis_url.h"

struct redisAsyncContext;

namespace obgw::gateway {

class AsioHiredisAdapter;

// One connection to Redis that stays up by itself: hiredis async, driven by
// the Redis io_context (AsioHiredisAdapter), connecting with AUTH/SELECT from
// the URL, reconnecting forever with capped exponential backoff and jitter.
//
// A slow Redis degrades the node, never stalls it: a connect that takes
// longer than connect_timeout fails, and when the oldest unanswered command
// is older than command_timeout the connection is declared down ("redis
// timeout"), torn down (every pending callback gets null) and reconnected.
// A command's clock starts when it is handed to hiredis, which writes it out
// in the same turn of the io_context: so what a caller hands over must be
// bounded (the broker keeps at most a few hundred books in flight and holds
// the rest back), or a Redis that is merely busy would look stalled.
//
// Two uses, one connection each: commands (Command, EvalSha: pipelined,
// binary-safe argv) or subscriber mode (Subscribe/Unsubscribe/OnMessage; the
// channels are remembered and subscribed again after every reconnect).
//
// Owns the hiredis context (freed by Stop or a teardown) and its timers.
// Threads: every method on the thread running the io_context (asserted);
// every callback runs there too, never after Stop() returned.
class RedisConnection {
 public:
  struct Options {
    RedisEndpoint endpoint;
    std::string name;  // "commands", "pubsub": in logs.
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds command_timeout{1000};
    std::chrono::milliseconds backoff_min{100};
    std::chrono::milliseconds backoff_max{2000};
  };
  // Null: no answer (not up, torn down, stopped).
  using ReplyCallback = std::function<void(const RedisReply* reply)>;
  // On every change of state: up, or down with why ("Connection refused",
  // "redis timeout"); never holds a secret. Once per change, not per retry.
  using StateCallback = std::function<void(bool up, const std::string& reason)>;
  using MessageCallback = std::function<void(std::string_view channel, std::string_view payload)>;

  // `stats` outlives the connection.
  RedisConnection(boost::asio::io_context& io, Options options, RedisStats& stats);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Connects, and keeps reconnecting until Stop().
  void Start(StateCallback on_state);
  // Frees the connection; pending callbacks get null before it returns, and
  // none runs after. Idempotent.
  void Stop();
  // Connected, handshake (AUTH, SELECT, SCRIPT LOAD) done.
  bool up() const { return up_; }
  const Options& options() const { return options_; }

  // Sends `argv` (pipelined; binary-safe). Not up: cb(nullptr) is posted at once.
  void Command(std::vector<std::string> argv, ReplyCallback cb);

  // Registers `script` (it must outlive the connection): SCRIPT LOADed on
  // every (re)connect before any other command goes out, and now if up.
  void LoadScript(const RedisScript& script);
  // EVALSHA, and on NOSCRIPT (Redis lost its script cache) EVAL, counted.
  // Registers `script` if it was not.
  void EvalSha(const RedisScript& script, std::vector<std::string> keys,
               std::vector<std::string> args, ReplyCallback cb);

  // Subscriber mode (a connection used only for pub/sub).
  void Subscribe(const std::string& channel);
  void Unsubscribe(const std::string& channel);
  void OnMessage(MessageCallback cb) { on_message_ = std::move(cb); }
  // Runs each time Redis confirms a SUBSCRIBE (after a reconnect too): from
  // then on every message of `channel` arrives.
  void OnSubscribed(std::function<void(const std::string& channel)> cb) {
    on_subscribed_ = std::move(cb);
  }
  // Channels subscribed or to be subscribed after a reconnect.
  std::size_t channel_count() const { return channels_.size(); }

 private:
  struct Pending;
  // Where a channel stands on the current connection.
  enum class ChannelState { kWanted, kSubscribing, kSubscribed, kUnsubscribing };
  struct Channel {
    ChannelState state = ChannelState::kWanted;
    bool wanted = true;  // Subscribe() last, not Unsubscribe().
  };

  static void OnConnectThunk(const redisAsyncContext* context, int status);
  static void OnDisconnectThunk(const redisAsyncContext* context, int status);
  static void OnReplyThunk(redisAsyncContext* context, void* reply, void* privdata);
  static void OnSubscriptionThunk(redisAsyncContext* context, void* reply, void* privdata);

  bool InThisThread() const;
  void Connect();
  void OnConnected(const redisAsyncContext* context, int status);
  void OnDisconnected(const redisAsyncContext* context, int status);
  void OnSubscriptionReply(redisAsyncContext* context, const void* reply);
  void Handshake();
  void MarkUp();
  // The current context is gone (hiredis frees it) or must go (`free_it`).
  void Lost(const std::string& reason, bool free_it);
  void ScheduleReconnect();
  void ArmWatchdog();
  void CheckTimeouts();
  // Sends on the current context, up or not (the handshake); false when
  // hiredis refused (cb then was not and will not be called).
  bool Send(const std::vector<std::string>& argv, ReplyCallback cb);
  bool SendSubscription(const char* verb, const std::string& channel);
  void SyncChannel(const std::string& channel);
  void PostNull(ReplyCallback cb);
  void FlushNulls();
  void ReportState(bool up, const std::string& reason);
  void SendEval(const RedisScript& script, const std::vector<std::string>& keys,
                const std::vector<std::string>& args, bool by_sha, ReplyCallback cb);

  boost::asio::io_context& io_;
  const Options options_;
  RedisStats& stats_;
  StateCallback on_state_;
  MessageCallback on_message_;
  std::function<void(const std::string& channel)> on_subscribed_;

  redisAsyncContext* context_ = nullptr;  // The current connection, or null.
  std::shared_ptr<AsioHiredisAdapter> adapter_;
  bool started_ = false;
  bool up_ = false;
  // What on_state_ was last told: nothing yet, down or up (a state is
  // reported and logged once per change, not once per retry).
  std::optional<bool> reported_;
  // When the last redis_down was reported (the redis_up line says how long
  // it was down: a reconnect).
  std::chrono::steady_clock::time_point down_since_;
  int attempt_ = 0;  // Failed connects since the last up (backoff exponent).
  std::size_t handshake_left_ = 0;
  // Send times of the replies still expected, oldest first (Redis answers in
  // order on one connection): the watchdog's view of a slow Redis.
  std::deque<std::chrono::steady_clock::time_point> awaiting_;
  std::chrono::steady_clock::time_point connect_started_;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer watchdog_;
  std::vector<const RedisScript*> scripts_;
  absl::flat_hash_map<std::string, Channel> channels_;
  // Callbacks owed a null, run soon (or by Stop).
  std::vector<ReplyCallback> nulls_;
  bool nulls_posted_ = false;
  std::minstd_rand jitter_;
  // Cleared by the destructor: posted work finds the connection gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_REDIS_REDIS_CONNECTION_H_
