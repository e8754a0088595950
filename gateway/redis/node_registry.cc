#include "gateway/redis/node_registry.h"

#include <cassert>
#include <charconv>

#include <spdlog/spdlog.h>

namespace obgw::gateway {
namespace {

// KEYS: nodes ZSET, info HASH, dead ZSET. ARGV: node_id, lease_ms, info,
// dead retention ms. Answers {{id, info, ...} of the live nodes (this one
// included), {ids of the dead}}.
constexpr const char* kRenewScript = R"lua(
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if #expired > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  redis.call('HDEL', KEYS[2], unpack(expired))
  for _, id in ipairs(expired) do redis.call('ZADD', KEYS[3], now, id) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[4]))
local live = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  live[#live + 1] = id
  live[#live + 1] = redis.call('HGET', KEYS[2], id) or ''
end
return {live, redis.call('ZRANGE', KEYS[3], 0, -1)}
)lua";

// "<connections> <address>": the connections, or nullopt.
std::optional<std::uint64_t> ParseInfo(std::string_view info) {
  std::uint64_t connections = 0;
  auto [end, ec] = std::from_chars(info.data(), info.data() + info.size(), connections);
  if (ec != std::errc() || end == info.data()) return std::nullopt;
  if (end != info.data() + info.size() && *end != ' ') return std::nullopt;
  return connections;
}

}  // namespace

NodeRegistry::NodeRegistry(boost::asio::io_context& io, RedisConnection& redis, Options options,
                           LocalConnections local_connections, SessionStats& stats)
    : io_(io),
      redis_(redis),
      options_(std::move(options)),
      local_connections_(std::move(local_connections)),
      stats_(stats),
      script_(kRenewScript),
      timer_(io) {}

bool NodeRegistry::InThisThread() const { return io_.get_executor().running_in_this_thread(); }

void NodeRegistry::Start() {
  assert(InThisThread());
  if (running_) return;
  running_ = true;
  redis_.LoadScript(script_);
  Renew();
}

void NodeRegistry::Stop() {
  assert(InThisThread());
  running_ = false;
  timer_.cancel();
}

bool NodeRegistry::has_view() const {
  assert(InThisThread());
  return answered_at_ && std::chrono::steady_clock::now() - *answered_at_ < options_.lease;
}

void NodeRegistry::Renew() {
  assert(InThisThread());
  if (!running_) return;
  ScheduleRenewal();
  // One at a time: a slow Redis gets no pile of renewals (its connection's
  // command timeout ends the one in flight).
  if (renewal_in_flight_) return;
  renewal_in_flight_ = true;
  std::string info = std::to_string(local_connections_()) + " " +
                     (options_.address.empty() ? std::string("-") : options_.address);
  redis_.EvalSha(script_, {std::string(kNodesKey), std::string(kInfoKey), std::string(kDeadKey)},
                 {options_.node_id, std::to_string(options_.lease.count()), std::move(info),
                  std::to_string(std::chrono::milliseconds(kDeadRetention).count())},
                 [this](const RedisReply* reply) { OnAnswer(reply); });
}

void NodeRegistry::ScheduleRenewal() {
  timer_.expires_after(options_.interval);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) Renew();
  });
}

void NodeRegistry::OnAnswer(const RedisReply* reply) {
  assert(InThisThread());
  renewal_in_flight_ = false;
  std::optional<View> view;
  if (reply != nullptr) {
    view = ParseView(*reply);
    if (!view) {
      stats_.store_errors.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("node registry: unexpected answer: {}", reply->Describe());
    }
  }
  if (!view) {
    // Unknown while Redis does not answer: shown as none.
    stats_.nodes.store(0, std::memory_order_relaxed);
    stats_.connections.store(0, std::memory_order_relaxed);
    return;
  }
  view_ = *std::move(view);
  answered_at_ = std::chrono::steady_clock::now();
  std::uint64_t connections = 0;
  for (const Node& node : view_.live) connections += node.connections;
  stats_.registry_beats.fetch_add(1, std::memory_order_relaxed);
  stats_.nodes.store(view_.live.size(), std::memory_order_relaxed);
  stats_.connections.store(connections, std::memory_order_relaxed);
}

std::optional<NodeRegistry::View> NodeRegistry::ParseView(const RedisReply& reply) {
  const RedisReply* live = reply.at(0);
  const RedisReply* dead = reply.at(1);
  if (reply.elements().size() != 2 || live == nullptr || !live->is_array() ||
      live->elements().size() % 2 != 0 || dead == nullptr || !dead->is_array()) {
    return std::nullopt;
  }
  View view;
  for (std::size_t i = 0; i < live->elements().size(); i += 2) {
    std::optional<std::string_view> id = live->elements()[i].text();
    std::optional<std::string_view> info = live->elements()[i + 1].text();
    if (!id || id->empty() || !info) return std::nullopt;
    std::optional<std::uint64_t> connections = ParseInfo(*info);
    // A node between its ZADD and HSET cannot be seen (one script), but a
    // hand-edited or foreign entry can: it counts as a node with none.
    view.live.push_back(Node{std::string(*id), connections.value_or(0)});
  }
  for (const RedisReply& element : dead->elements()) {
    std::optional<std::string_view> id = element.text();
    if (!id || id->empty()) return std::nullopt;
    view.dead.emplace_back(*id);
  }
  return view;
}

}  // namespace obgw::gateway
