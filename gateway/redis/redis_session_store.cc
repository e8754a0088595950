#include "gateway/redis/redis_session_store.h"

#include <algorithm>
#include <cassert>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "gateway/fanout/symbol.h"

namespace obgw::gateway {
namespace {

// KEYS: conns HASH, symbols SET. ARGV: node_id, limit, key TTL in ms, then
// the ids of the dead nodes (their counts are deleted; any other node's,
// live or joined since the registry's last answer, count). Answers
// {admitted (0/1), symbols to restore}.
constexpr const char* kOpenScript = R"lua(
local dead = {}
for i = 4, #ARGV do dead[ARGV[i]] = true end
local total = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local node, count = fields[i], tonumber(fields[i + 1]) or 0
  if dead[node] and node ~= ARGV[1] then
    redis.call('HDEL', KEYS[1], node)
  elseif count > 0 then
    total = total + count
  end
end
if total >= tonumber(ARGV[2]) then return {0, {}} end
local mine = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
if mine == 1 then return {1, redis.call('SMEMBERS', KEYS[2])} end
return {1, {}}
)lua";

// KEYS: conns HASH, symbols SET. ARGV: node_id, key TTL in ms. Answers this
// node's connections of the id left.
constexpr const char* kCloseScript = R"lua(
local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if left <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return left
)lua";

// How often the keys of open sessions are touched, as a share of their TTL.
constexpr int kRefreshesPerTtl = 3;

// The OPEN script's answer, validated; nullopt when it has another shape.
// Symbols that are not valid symbols (a foreign or corrupted set) are left
// out and reported in `bad_symbols`.
std::optional<SessionStore::Opened> ParseOpened(const RedisReply& reply, std::size_t& bad_symbols) {
  const RedisReply* admitted = reply.at(0);
  const RedisReply* symbols = reply.at(1);
  if (reply.elements().size() != 2 || admitted == nullptr || symbols == nullptr ||
      !symbols->is_array()) {
    return std::nullopt;
  }
  std::optional<std::int64_t> verdict = admitted->integer();
  if (!verdict || (*verdict != 0 && *verdict != 1)) return std::nullopt;
  SessionStore::Opened opened;
  opened.admitted = *verdict == 1;
  for (const RedisReply& element : symbols->elements()) {
    std::optional<std::string_view> symbol = element.text();
    if (!symbol || !IsValidSymbol(*symbol)) {
      ++bad_symbols;
      continue;
    }
    opened.restore.emplace_back(*symbol);
  }
  std::sort(opened.restore.begin(), opened.restore.end());
  opened.restore.erase(std::unique(opened.restore.begin(), opened.restore.end()),
                       opened.restore.end());
  return opened;
}

void Answer(const boost::asio::any_io_executor& executor, SessionStore::OpenCallback opened,
            SessionStore::Opened answer) {
  boost::asio::post(executor, [opened = std::move(opened), answer = std::move(answer)]() mutable {
    opened(std::move(answer));
  });
}

}  // namespace

std::string RedisSessionStore::ConnectionsKey(std::string_view client_id) {
  // An id holding braces still gives both of its keys the same hash tag
  // (Redis takes the text between the first '{' and the next '}').
  return "obgw:{c:" + std::string(client_id) + "}:conns";
}

std::string RedisSessionStore::SymbolsKey(std::string_view client_id) {
  return "obgw:{c:" + std::string(client_id) + "}:symbols";
}

RedisSessionStore::RedisSessionStore(boost::asio::io_context& io, RedisConnection& redis,
                                     const NodeRegistry& registry, Options options,
                                     SessionStats& stats)
    : io_(io),
      redis_(redis),
      registry_(registry),
      options_(std::move(options)),
      key_ttl_ms_(std::to_string(std::max(options_.ttl, kMinKeyTtl).count())),
      stats_(stats),
      open_script_(kOpenScript),
      close_script_(kCloseScript),
      mirror_(options_.ttl, options_.per_client_limit),
      refresh_timer_(io) {}

bool RedisSessionStore::InThisThread() const { return io_.get_executor().running_in_this_thread(); }

void RedisSessionStore::Open(const std::string& client_id, boost::asio::any_io_executor executor,
                             OpenCallback opened) {
  boost::asio::post(
      io_, [this, client_id, executor = std::move(executor), opened = std::move(opened)]() mutable {
        OpenHere(client_id, std::move(executor), std::move(opened));
      });
}

void RedisSessionStore::AddSymbol(const std::string& client_id, const std::string& symbol) {
  boost::asio::post(io_, [this, client_id, symbol] {
    if (mirror_.connections(client_id) == 0) return;  // Not open here: ignored.
    mirror_.AddSymbol(client_id, symbol);
    if (!ToRedis(client_id)) return;
    std::string key = SymbolsKey(client_id);
    redis_.Command({"SADD", key, symbol}, CountErrors());
    redis_.Command({"PEXPIRE", std::move(key), key_ttl_ms_}, CountErrors());
  });
}

void RedisSessionStore::RemoveSymbol(const std::string& client_id, const std::string& symbol) {
  boost::asio::post(io_, [this, client_id, symbol] {
    if (mirror_.connections(client_id) == 0) return;
    mirror_.RemoveSymbol(client_id, symbol);
    if (ToRedis(client_id)) redis_.Command({"SREM", SymbolsKey(client_id), symbol}, CountErrors());
  });
}

void RedisSessionStore::Close(const std::string& client_id) {
  boost::asio::post(io_, [this, client_id] {
    if (mirror_.connections(client_id) == 0) return;  // Never admitted: nothing to close.
    mirror_.Close(client_id);
    --open_connections_;
    stats_.local_connections.store(open_connections_, std::memory_order_relaxed);
    if (!ToRedis(client_id)) return;
    redis_.EvalSha(close_script_, {ConnectionsKey(client_id), SymbolsKey(client_id)},
                   {options_.node_id, key_ttl_ms_}, CountErrors());
  });
}

void RedisSessionStore::OpenHere(const std::string& client_id,
                                 boost::asio::any_io_executor executor, OpenCallback opened) {
  assert(InThisThread());
  if (!redis_.up()) return OpenLocally(client_id, std::move(executor), std::move(opened));
  std::vector<std::string> args{options_.node_id, std::to_string(options_.per_client_limit),
                                key_ttl_ms_};
  const std::vector<std::string>& dead = registry_.dead_nodes();
  args.insert(args.end(), dead.begin(), dead.end());
  redis_.EvalSha(open_script_, {ConnectionsKey(client_id), SymbolsKey(client_id)}, std::move(args),
                 [this, client_id, executor = std::move(executor),
                  opened = std::move(opened)](const RedisReply* reply) mutable {
                   std::size_t bad_symbols = 0;
                   std::optional<Opened> answer =
                       reply != nullptr ? ParseOpened(*reply, bad_symbols) : std::nullopt;
                   if (reply != nullptr && (!answer || bad_symbols > 0)) {
                     stats_.store_errors.fetch_add(1, std::memory_order_relaxed);
                     spdlog::debug("sessions: unexpected OPEN answer: {}", reply->Describe());
                   }
                   // Redis away or slow (it may have counted the connection: the
                   // resynchronisation after its reconnect sets the count right).
                   if (!answer)
                     return OpenLocally(client_id, std::move(executor), std::move(opened));
                   stats_.opens_redis.fetch_add(1, std::memory_order_relaxed);
                   if (answer->admitted) {
                     // The mirror counts it too (this node's count is at most the
                     // cluster's, which was under the limit).
                     mirror_.Open(client_id, io_.get_executor(), [](Opened) {});
                     Admitted();
                   }
                   Answer(executor, std::move(opened), *std::move(answer));
                 });
}

void RedisSessionStore::OpenLocally(const std::string& client_id,
                                    boost::asio::any_io_executor executor, OpenCallback opened) {
  assert(InThisThread());
  stats_.opens_local.fetch_add(1, std::memory_order_relaxed);
  stale_.insert(client_id);
  mirror_.Open(
      client_id, io_.get_executor(),
      [this, executor = std::move(executor), opened = std::move(opened)](Opened answer) mutable {
        if (answer.admitted) Admitted();
        Answer(executor, std::move(opened), std::move(answer));
      });
}

void RedisSessionStore::Admitted() {
  ++open_connections_;
  stats_.local_connections.store(open_connections_, std::memory_order_relaxed);
}

bool RedisSessionStore::ToRedis(const std::string& client_id) {
  assert(InThisThread());
  if (redis_.up()) return true;
  stale_.insert(client_id);
  return false;
}

RedisConnection::ReplyCallback RedisSessionStore::CountErrors() {
  return [this](const RedisReply* reply) {
    if (reply != nullptr && reply->is_error()) {
      stats_.store_errors.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("sessions: {}", reply->Describe());
    }
  };
}

void RedisSessionStore::Start() {
  assert(InThisThread());
  running_ = true;
  redis_.LoadScript(open_script_);
  redis_.LoadScript(close_script_);
  ScheduleRefresh();
}

void RedisSessionStore::Stop() {
  assert(InThisThread());
  running_ = false;
  refresh_timer_.cancel();
}

void RedisSessionStore::OnRedisState(bool up) {
  assert(InThisThread());
  if (up) Resync();
}

void RedisSessionStore::Resync() {
  assert(InThisThread());
  std::vector<std::string> ids = mirror_.OpenClients();
  for (const std::string& id : stale_) {
    if (mirror_.connections(id) == 0) ids.push_back(id);  // Open ones are listed already.
  }
  if (ids.empty()) return;
  stats_.resyncs.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("sessions: re-registering {} client ids in Redis", ids.size());
  // Sent before anything else on the fresh connection, so every later OPEN
  // (any node's) sees them.
  for (const std::string& id : ids) {
    std::optional<InMemorySessionStore::ClientState> state = mirror_.Find(id);
    std::string connections_key = ConnectionsKey(id);
    std::string symbols_key = SymbolsKey(id);
    if (state && state->connections > 0) {
      redis_.Command(
          {"HSET", connections_key, options_.node_id, std::to_string(state->connections)},
          CountErrors());
    } else {
      redis_.Command({"HDEL", connections_key, options_.node_id}, CountErrors());
    }
    // An id this node changed meanwhile: its view is the newest there is
    // (symbols it removed must not come back). Otherwise other nodes may
    // have added symbols: only this node's are added.
    if (stale_.contains(id)) redis_.Command({"DEL", symbols_key}, CountErrors());
    if (state && !state->symbols.empty()) {
      std::vector<std::string> sadd{"SADD", symbols_key};
      sadd.insert(sadd.end(), state->symbols.begin(), state->symbols.end());
      redis_.Command(std::move(sadd), CountErrors());
    }
    redis_.Command({"PEXPIRE", std::move(connections_key), key_ttl_ms_}, CountErrors());
    redis_.Command({"PEXPIRE", std::move(symbols_key), key_ttl_ms_}, CountErrors());
  }
  stale_.clear();
}

void RedisSessionStore::ScheduleRefresh() {
  if (!running_) return;
  const auto interval = std::max(options_.ttl, kMinKeyTtl) / kRefreshesPerTtl;
  refresh_timer_.expires_after(interval);
  refresh_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    Refresh();
    ScheduleRefresh();
  });
}

void RedisSessionStore::Refresh() {
  assert(InThisThread());
  if (!redis_.up()) return;  // The resync touches them when it is back.
  for (const std::string& id : mirror_.OpenClients()) {
    redis_.Command({"PEXPIRE", ConnectionsKey(id), key_ttl_ms_}, CountErrors());
    redis_.Command({"PEXPIRE", SymbolsKey(id), key_ttl_ms_}, CountErrors());
  }
}

}  // namespace obgw::gateway
