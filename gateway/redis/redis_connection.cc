#include "gateway/redis/redis_connection.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <cassert>
#include <utility>

#include <absl/strings/str_cat.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "gateway/logging/event_log.h"
#include "gateway/redis/asio_hiredis_adapter.h"

namespace obgw::gateway {
namespace {

using Clock = std::chrono::steady_clock;

std::string ErrorOf(const redisAsyncContext* context) {
  if (context->c.err != 0 && context->c.errstr[0] != '\0') return context->c.errstr;
  return "connection closed";
}

// ["message", channel, payload], all three strings.
bool IsMessage(const redisReply* reply) {
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) return false;
  for (std::size_t i = 0; i < 3; ++i) {
    if (reply->element[i] == nullptr || reply->element[i]->type != REDIS_REPLY_STRING) return false;
  }
  return std::string_view(reply->element[0]->str, reply->element[0]->len) == "message";
}

void Decrement(Counter& gauge) {
  if (gauge.load(std::memory_order_relaxed) > 0) gauge.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace

// A command's callback while hiredis holds it (its privdata).
struct RedisConnection::Pending {
  RedisConnection* owner;
  ReplyCallback callback;
};

RedisConnection::RedisConnection(boost::asio::io_context& io, Options options, RedisStats& stats)
    : io_(io),
      options_(std::move(options)),
      stats_(stats),
      reconnect_timer_(io),
      watchdog_(io),
      jitter_(std::random_device{}()) {}

RedisConnection::~RedisConnection() {
  Stop();
  alive_.reset();
}

bool RedisConnection::InThisThread() const { return io_.get_executor().running_in_this_thread(); }

void RedisConnection::Start(StateCallback on_state) {
  assert(InThisThread());
  if (started_) return;
  on_state_ = std::move(on_state);
  started_ = true;
  Connect();
  ArmWatchdog();
}

void RedisConnection::Stop() {
  if (!started_) return;
  assert(InThisThread());
  started_ = false;
  reconnect_timer_.cancel();
  watchdog_.cancel();
  if (redisAsyncContext* context = std::exchange(context_, nullptr)) {
    adapter_.reset();
    if (std::exchange(up_, false)) Decrement(stats_.connections_up);
    awaiting_.clear();
    // Runs every pending callback with null, now.
    redisAsyncFree(context);
  }
  for (auto& [name, channel] : channels_) channel.state = ChannelState::kWanted;
  stats_.channels.store(0, std::memory_order_relaxed);
  FlushNulls();
}

void RedisConnection::Connect() {
  connect_started_ = Clock::now();
  redisAsyncContext* context =
      redisAsyncConnect(options_.endpoint.host.c_str(), options_.endpoint.port);
  if (context == nullptr) {
    Lost("cannot allocate a connection", false);
    return;
  }
  if (context->err != 0) {
    std::string reason = ErrorOf(context);
    redisAsyncFree(context);
    Lost(reason, false);
    return;
  }
  adapter_ = AsioHiredisAdapter::Attach(io_, context);
  if (!adapter_) {
    redisAsyncFree(context);
    Lost("cannot register the socket", false);
    return;
  }
  context->data = this;
  context_ = context;
  // After Attach: setting the connect callback arms the first write event.
  redisAsyncSetConnectCallback(context, &OnConnectThunk);
  redisAsyncSetDisconnectCallback(context, &OnDisconnectThunk);
}

void RedisConnection::OnConnectThunk(const redisAsyncContext* context, int status) {
  static_cast<RedisConnection*>(context->data)->OnConnected(context, status);
}

void RedisConnection::OnDisconnectThunk(const redisAsyncContext* context, int status) {
  static_cast<RedisConnection*>(context->data)->OnDisconnected(context, status);
}

void RedisConnection::OnConnected(const redisAsyncContext* context, int status) {
  if (context != context_) return;
  // On failure hiredis frees the context once this returns.
  if (status != REDIS_OK) {
    Lost(ErrorOf(context), false);
    return;
  }
  Handshake();
}

void RedisConnection::OnDisconnected(const redisAsyncContext* context, int status) {
  if (context != context_) return;  // A teardown of ours, already accounted.
  Lost(ErrorOf(context), false);
}

void RedisConnection::Handshake() {
  std::vector<std::vector<std::string>> commands;
  const RedisEndpoint& endpoint = options_.endpoint;
  if (!endpoint.password.empty()) {
    if (endpoint.user.empty()) {
      commands.push_back({"AUTH", endpoint.password});
    } else {
      commands.push_back({"AUTH", endpoint.user, endpoint.password});
    }
  }
  if (endpoint.db != 0) commands.push_back({"SELECT", std::to_string(endpoint.db)});
  for (const RedisScript* script : scripts_)
    commands.push_back({"SCRIPT", "LOAD", script->source()});
  // Up means Redis answered, not just that TCP connected.
  commands.push_back({"PING"});
  handshake_left_ = commands.size();
  for (std::size_t i = 0; i < commands.size(); ++i) {
    // The AUTH command's text is never put in a log or a reason.
    std::string what = i == 0 && !endpoint.password.empty() ? "AUTH" : commands[i][0];
    bool sent = Send(commands[i], [this, what](const RedisReply* reply) {
      if (reply == nullptr) return;  // Lost, already accounted.
      if (reply->is_error()) {
        Lost(what + " failed: " + std::string(*reply->error()), true);
        return;
      }
      if (--handshake_left_ == 0) MarkUp();
    });
    if (!sent) {
      // Inside hiredis' connect callback, which may not free its context:
      // the teardown runs next, from the io_context.
      boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), context = context_] {
        if (!alive.expired() && context_ == context) Lost("cannot send the handshake", true);
      });
      return;
    }
  }
}

void RedisConnection::MarkUp() {
  up_ = true;
  attempt_ = 0;
  stats_.connects.fetch_add(1, std::memory_order_relaxed);
  stats_.connections_up.fetch_add(1, std::memory_order_relaxed);
  ReportState(true, "");
  // The new connection has no subscription yet.
  std::vector<std::string> names;
  for (const auto& [name, channel] : channels_) names.push_back(name);
  for (const std::string& name : names) SyncChannel(name);
}

void RedisConnection::Lost(const std::string& reason, bool free_it) {
  redisAsyncContext* context = std::exchange(context_, nullptr);
  adapter_.reset();  // It keeps itself alive until hiredis' cleanup.
  awaiting_.clear();
  handshake_left_ = 0;
  if (std::exchange(up_, false)) {
    stats_.disconnects.fetch_add(1, std::memory_order_relaxed);
    Decrement(stats_.connections_up);
  } else {
    stats_.connect_failures.fetch_add(1, std::memory_order_relaxed);
  }
  for (auto it = channels_.begin(); it != channels_.end();) {
    it->second.state = ChannelState::kWanted;
    if (!it->second.wanted) {
      channels_.erase(it++);
    } else {
      ++it;
    }
  }
  stats_.channels.store(0, std::memory_order_relaxed);
  ReportState(false, reason);
  // Pending callbacks get null (now, or when the hiredis callback we are in
  // returns).
  if (free_it && context != nullptr) redisAsyncFree(context);
  if (started_) ScheduleReconnect();
}

void RedisConnection::ScheduleReconnect() {
  auto delay = options_.backoff_min * (1LL << std::min(attempt_, 20));
  delay = std::min<std::chrono::milliseconds>(delay, options_.backoff_max);
  ++attempt_;
  // Jitter in [delay/2, delay]: nodes that lost Redis together do not all
  // come back in the same millisecond.
  std::uniform_int_distribution<std::int64_t> spread(delay.count() / 2, delay.count());
  reconnect_timer_.expires_after(std::chrono::milliseconds(spread(jitter_)));
  reconnect_timer_.async_wait(
      [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& error) {
        if (error || alive.expired()) return;
        if (started_ && context_ == nullptr) Connect();
      });
}

void RedisConnection::ArmWatchdog() {
  auto period = std::max<std::chrono::milliseconds>(
      std::chrono::milliseconds(5),
      std::min(options_.connect_timeout, options_.command_timeout) / 4);
  watchdog_.expires_after(period);
  watchdog_.async_wait(
      [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& error) {
        if (error || alive.expired() || !started_) return;
        CheckTimeouts();
        if (started_) ArmWatchdog();
      });
}

void RedisConnection::CheckTimeouts() {
  if (context_ == nullptr) return;
  auto now = Clock::now();
  if (!up_) {
    if (now - connect_started_ > options_.connect_timeout) {
      Lost(absl::StrCat("connect timeout (", options_.connect_timeout.count(), " ms)"), true);
    }
    return;
  }
  if (!awaiting_.empty() && now - awaiting_.front() > options_.command_timeout) {
    stats_.timeouts.fetch_add(1, std::memory_order_relaxed);
    Lost("redis timeout", true);
  }
}

bool RedisConnection::Send(const std::vector<std::string>& argv, ReplyCallback cb) {
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  pointers.reserve(argv.size());
  lengths.reserve(argv.size());
  for (const std::string& arg : argv) {
    pointers.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  auto* pending = new Pending{this, std::move(cb)};
  if (context_ == nullptr ||
      redisAsyncCommandArgv(context_, &OnReplyThunk, pending, static_cast<int>(argv.size()),
                            pointers.data(), lengths.data()) != REDIS_OK) {
    PostNull(std::move(pending->callback));
    delete pending;
    return false;
  }
  awaiting_.push_back(Clock::now());
  stats_.commands.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void RedisConnection::OnReplyThunk(redisAsyncContext* context, void* reply, void* privdata) {
  std::unique_ptr<Pending> pending(static_cast<Pending*>(privdata));
  RedisConnection& self = *pending->owner;
  const auto* raw = static_cast<const redisReply*>(reply);
  if (context == self.context_) {
    if (raw == nullptr) {
      // hiredis is dropping the connection and fails the pending commands
      // before it calls the disconnect callback.
      self.Lost(ErrorOf(context), false);
    } else if (!self.awaiting_.empty()) {
      self.awaiting_.pop_front();
    }
  }
  ReplyCallback callback = std::move(pending->callback);
  if (!callback) return;
  if (raw == nullptr) {
    callback(nullptr);
    return;
  }
  std::optional<RedisReply> copy = RedisReply::FromHiredis(raw);
  if (!copy) {
    self.stats_.bad_replies.fetch_add(1, std::memory_order_relaxed);
    RedisReply bad = RedisReply::Error("ERR reply of an unexpected shape (dropped)");
    callback(&bad);
    return;
  }
  if (copy->is_error()) self.stats_.errors.fetch_add(1, std::memory_order_relaxed);
  callback(&*copy);
}

void RedisConnection::Command(std::vector<std::string> argv, ReplyCallback cb) {
  assert(InThisThread());
  if (!up_) {
    PostNull(std::move(cb));
    return;
  }
  Send(argv, std::move(cb));
}

void RedisConnection::LoadScript(const RedisScript& script) {
  assert(InThisThread());
  if (std::find(scripts_.begin(), scripts_.end(), &script) != scripts_.end()) return;
  scripts_.push_back(&script);
  if (up_) Command({"SCRIPT", "LOAD", script.source()}, nullptr);
}

void RedisConnection::EvalSha(const RedisScript& script, std::vector<std::string> keys,
                              std::vector<std::string> args, ReplyCallback cb) {
  assert(InThisThread());
  if (std::find(scripts_.begin(), scripts_.end(), &script) == scripts_.end()) {
    scripts_.push_back(&script);
  }
  if (!up_) {
    PostNull(std::move(cb));
    return;
  }
  // Built once; on NOSCRIPT only its first two entries change.
  auto argv = std::make_shared<std::vector<std::string>>();
  argv->reserve(3 + keys.size() + args.size());
  argv->push_back("EVALSHA");
  argv->push_back(script.sha1());
  argv->push_back(std::to_string(keys.size()));
  for (std::string& key : keys) argv->push_back(std::move(key));
  for (std::string& arg : args) argv->push_back(std::move(arg));
  Send(*argv, [this, &script, argv, cb = std::move(cb)](const RedisReply* reply) mutable {
    if (reply != nullptr && reply->is_error() && reply->error()->starts_with("NOSCRIPT") && up_) {
      // Redis lost its script cache (restart, SCRIPT FLUSH) under this connection.
      stats_.noscript.fetch_add(1, std::memory_order_relaxed);
      (*argv)[0] = "EVAL";
      (*argv)[1] = script.source();
      Send(*argv, std::move(cb));
      return;
    }
    if (cb) cb(reply);
  });
}

void RedisConnection::Subscribe(const std::string& channel) {
  assert(InThisThread());
  channels_[channel].wanted = true;
  SyncChannel(channel);
}

void RedisConnection::Unsubscribe(const std::string& channel) {
  assert(InThisThread());
  auto it = channels_.find(channel);
  if (it == channels_.end()) return;
  it->second.wanted = false;
  SyncChannel(channel);
}

// One (UN)SUBSCRIBE per channel in flight at most: hiredis 0.14 keys its
// subscription callbacks by channel, and an UNSUBSCRIBE confirmation removes
// the callback a SUBSCRIBE sent after it had installed.
void RedisConnection::SyncChannel(const std::string& name) {
  auto it = channels_.find(name);
  if (it == channels_.end()) return;
  Channel& channel = it->second;
  if (!up_) {
    if (!channel.wanted) channels_.erase(it);
    return;
  }
  switch (channel.state) {
    case ChannelState::kWanted:
      if (!channel.wanted) {
        channels_.erase(it);
      } else if (SendSubscription("SUBSCRIBE", name)) {
        channel.state = ChannelState::kSubscribing;
      }
      break;
    case ChannelState::kSubscribed:
      if (!channel.wanted && SendSubscription("UNSUBSCRIBE", name)) {
        channel.state = ChannelState::kUnsubscribing;
      }
      break;
    case ChannelState::kSubscribing:
    case ChannelState::kUnsubscribing:
      break;  // Synced again when Redis confirms.
  }
}

bool RedisConnection::SendSubscription(const char* verb, const std::string& channel) {
  const char* argv[2] = {verb, channel.data()};
  std::size_t lengths[2] = {std::char_traits<char>::length(verb), channel.size()};
  if (context_ == nullptr ||
      redisAsyncCommandArgv(context_, &OnSubscriptionThunk, this, 2, argv, lengths) != REDIS_OK) {
    return false;
  }
  awaiting_.push_back(Clock::now());
  stats_.commands.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void RedisConnection::OnSubscriptionThunk(redisAsyncContext* context, void* reply, void* privdata) {
  static_cast<RedisConnection*>(privdata)->OnSubscriptionReply(context, reply);
}

void RedisConnection::OnSubscriptionReply(redisAsyncContext* context, const void* reply) {
  if (context != context_ || context_ == nullptr) return;  // An old connection's teardown.
  if (reply == nullptr) {
    Lost(ErrorOf(context), false);
    return;
  }
  const auto* raw = static_cast<const redisReply*>(reply);
  if (IsMessage(raw)) {
    // The bulk of a subscriber's traffic: handed over straight from hiredis'
    // reply (valid during this callback), not copied into a RedisReply.
    const redisReply* channel = raw->element[1];
    const redisReply* payload = raw->element[2];
    if (on_message_) {
      on_message_(std::string_view(channel->str, channel->len),
                  std::string_view(payload->str, payload->len));
    }
    return;
  }
  std::optional<RedisReply> copy = RedisReply::FromHiredis(raw);
  const RedisReply* kind = copy ? copy->at(0) : nullptr;
  const RedisReply* name = copy ? copy->at(1) : nullptr;
  const RedisReply* third = copy ? copy->at(2) : nullptr;
  if (!kind || !kind->text() || !name || !name->text() || !third) {
    stats_.bad_replies.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::string_view verb = *kind->text();
  std::string channel(*name->text());
  if (verb == "message") {
    if (!third->text()) {
      stats_.bad_replies.fetch_add(1, std::memory_order_relaxed);
    } else if (on_message_) {
      on_message_(channel, *third->text());
    }
    return;
  }
  if (!awaiting_.empty()) awaiting_.pop_front();
  auto it = channels_.find(channel);
  if (it == channels_.end()) return;
  if (verb == "subscribe" && it->second.state == ChannelState::kSubscribing) {
    it->second.state = ChannelState::kSubscribed;
    stats_.channels.fetch_add(1, std::memory_order_relaxed);
    if (on_subscribed_) on_subscribed_(channel);
  } else if (verb == "unsubscribe" && it->second.state == ChannelState::kUnsubscribing) {
    it->second.state = ChannelState::kWanted;
    Decrement(stats_.channels);
  } else {
    stats_.bad_replies.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  SyncChannel(channel);
}

void RedisConnection::PostNull(ReplyCallback cb) {
  if (!cb || !started_) return;  // Stopped: no callback runs any more.
  nulls_.push_back(std::move(cb));
  if (nulls_posted_) return;
  nulls_posted_ = true;
  boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (!alive.expired()) FlushNulls();
  });
}

void RedisConnection::FlushNulls() {
  nulls_posted_ = false;
  std::vector<ReplyCallback> callbacks = std::exchange(nulls_, {});
  for (ReplyCallback& callback : callbacks) callback(nullptr);
}

void RedisConnection::ReportState(bool up, const std::string& reason) {
  if (reported_ == up) return;
  const bool reconnect = up && reported_.has_value();
  reported_ = up;
  // Event lines (issue 13): the endpoint always redacted (no password).
  if (up) {
    LogEvent(LogKind::redis, spdlog::level::info, "redis_up", [&](LogFields& line) {
      line.Add("connection", options_.name)
          .Add("endpoint", options_.endpoint.Redacted())
          .Add("reconnect", reconnect);
      if (reconnect) line.AddMillis("down_ms", std::chrono::steady_clock::now() - down_since_);
    });
  } else {
    down_since_ = std::chrono::steady_clock::now();
    LogEvent(LogKind::redis, spdlog::level::warn, "redis_down", [&](LogFields& line) {
      line.Add("connection", options_.name)
          .Add("endpoint", options_.endpoint.Redacted())
          .Add("reason", reason)
          .Add("retry_min_ms", options_.backoff_min.count())
          .Add("retry_max_ms", options_.backoff_max.count());
    });
  }
  if (on_state_) on_state_(up, reason);
}

}  // namespace obgw::gateway
