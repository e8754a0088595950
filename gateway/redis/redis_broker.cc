#include "gateway/redis/redis_broker.h"

#include <cassert>
#include <charconv>
#include <chrono>
#include <iterator>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "gateway/fanout/symbol.h"

namespace obgw::gateway {
namespace {

// Orders n books at once. KEYS[2i-1] book i's stream hash, KEYS[2i] its
// channel; ARGV[1] the cluster epoch as this node read it, ARGV[2] the node
// id, ARGV[3] the publish time (us since 1970), ARGV[3+i] book i. Returns
// {seq1, epoch1, seq2, epoch2, ...}. A hash keeps its own epoch: the one it
// was created under. The keys of one script may lie in several slots: fine
// on one Redis; on Redis Cluster the broker would group books per slot.
constexpr const char* kPublishLua = R"lua(
local out = {}
for i = 1, #KEYS / 2 do
  local book, data = KEYS[2 * i - 1], ARGV[3 + i]
  local epoch = redis.call('HGET', book, 'epoch')
  if not epoch then
    epoch = ARGV[1]
    redis.call('HSET', book, 'epoch', epoch)
  end
  local seq = redis.call('HINCRBY', book, 'seq', 1)
  redis.call('HSET', book, 'data', data, 'time_us', ARGV[3], 'node', ARGV[2])
  redis.call('PUBLISH', KEYS[2 * i], seq .. ' ' .. epoch .. ' ' .. ARGV[2] .. ' ' .. ARGV[3] .. '\n' .. data)
  out[2 * i - 1] = seq
  out[2 * i] = epoch
end
return out
)lua";

// KEYS[1] obgw:epoch: set once, to Redis' own clock in microseconds (the
// same clock for every node), and returned. Concatenated as text: a Lua
// number would print in exponent form.
constexpr const char* kEpochLua = R"lua(
local now = redis.call('TIME')
redis.call('SET', KEYS[1], now[1] .. string.format('%06d', tonumber(now[2])), 'NX')
return redis.call('GET', KEYS[1])
)lua";

constexpr std::string_view kChannelPrefix = "obgw:{s:";
constexpr std::string_view kChannelSuffix = "}:books";
constexpr std::size_t kMaxNodeIdLength = 256;

std::int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::optional<std::uint64_t> ParseNumber(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

// Books from Redis go to clients verbatim as "data": only a JSON object may.
// Checked by its outline, not parsed: every book in Redis was written by a
// node of this cluster through the publish script, after that node checked
// it on the way in (the REST body is parsed, a gRPC book is rendered from
// protobuf), and whoever can write to Redis can forge any well-formed book
// and seq anyway. The outline catches what does happen by accident (a
// foreign or truncated value) at no cost; a full parse cost node B ~15 % of
// its CPU (perf, docs/performance.md).
bool LooksLikeJsonObject(std::string_view data) {
  constexpr std::string_view kSpace = " \t\r\n";
  std::size_t first = data.find_first_not_of(kSpace);
  std::size_t last = data.find_last_not_of(kSpace);
  return first != std::string_view::npos && data[first] == '{' && data[last] == '}' && first < last;
}

// A positive integer reply (or a string holding one), else 0.
std::uint64_t PositiveInteger(const RedisReply* reply) {
  std::optional<std::int64_t> value = reply ? reply->AsInteger() : std::nullopt;
  return value.value_or(0) > 0 ? static_cast<std::uint64_t>(*value) : 0;
}

bool IsValidNodeId(std::string_view node) {
  if (node.empty() || node.size() > kMaxNodeIdLength) return false;
  for (char c : node) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

RedisBroker::RedisBroker(boost::asio::io_context& io, RedisConnection& commands,
                         RedisConnection& pubsub, UpdateQueue& queue, RedisStats& stats,
                         std::string node_id, Limits limits)
    : io_(io),
      commands_(commands),
      pubsub_(pubsub),
      queue_(queue),
      stats_(stats),
      node_id_(std::move(node_id)),
      publish_script_(kPublishLua),
      epoch_script_(kEpochLua),
      limits_{std::max<std::size_t>(limits.books_in_flight, 1),
              std::max<std::size_t>(limits.books_per_script, 1)},
      local_epoch_(NowMicros()),
      outbox_(limits_.books_in_flight),
      token_(queue.MakeToken()) {}

std::string RedisBroker::StreamKey(std::string_view symbol) {
  return "obgw:{s:" + std::string(symbol) + "}:book";
}

std::string RedisBroker::Channel(std::string_view symbol) {
  return std::string(kChannelPrefix) + std::string(symbol) + std::string(kChannelSuffix);
}

std::optional<std::string_view> RedisBroker::SymbolOfChannel(std::string_view channel) {
  if (!channel.starts_with(kChannelPrefix) || !channel.ends_with(kChannelSuffix) ||
      channel.size() < kChannelPrefix.size() + kChannelSuffix.size()) {
    return std::nullopt;
  }
  std::string_view symbol = channel.substr(
      kChannelPrefix.size(), channel.size() - kChannelPrefix.size() - kChannelSuffix.size());
  if (!IsValidSymbol(symbol)) return std::nullopt;
  return symbol;
}

std::uint64_t RedisBroker::NowMicros() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::uint64_t RedisBroker::epoch() const {
  return ready() ? cluster_epoch_.load(std::memory_order_acquire)
                 : local_epoch_.load(std::memory_order_acquire);
}

void RedisBroker::Start() {
  assert(InRedisThread());
  commands_.LoadScript(publish_script_);
  commands_.LoadScript(epoch_script_);
  pubsub_.OnMessage(
      [this](std::string_view channel, std::string_view payload) { OnMessage(channel, payload); });
  // The last book is read only once the subscription is live: a book
  // published after that read arrives as a message, so none falls in
  // between (one published before it and after the SUBSCRIBE arrives twice,
  // and the hub drops the second copy). After a reconnect too: what was
  // published while this node was away.
  pubsub_.OnSubscribed([this](const std::string& channel) {
    std::optional<std::string_view> symbol = SymbolOfChannel(channel);
    if (!symbol) return;
    std::string name(*symbol);
    if (followed_.contains(name)) FetchLast(name);
  });
}

bool RedisBroker::Sequence(BookUpdate& update, StreamPosition last) {
  if (ready() && update.retries < kMaxRetries) {
    BookOutbox::Added added = outbox_.Add(OutgoingBook{std::move(update), SteadyNanos()});
    // One post per batch the hub hands over (the Redis thread takes all
    // that waits), none while the Redis thread is busy with the outbox.
    if (added.wake) boost::asio::post(io_, [this] { DrainOutbox(); });
    if (added.conflated) {
      stats_.broker_conflated.fetch_add(1, std::memory_order_relaxed);
      if (added.conflated->on_routed) added.conflated->on_routed(0);
    }
    return false;
  }
  // Redis away (or it failed this book kMaxRetries times): this node orders
  // its book itself so its own clients keep getting books.
  update.position = StreamPosition{last.offset + 1, local_epoch_.load(std::memory_order_acquire)};
  stats_.books_sequenced_locally.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void RedisBroker::Follow(const std::string& symbol) {
  boost::asio::post(io_, [this, symbol] {
    followed_.insert(symbol);
    // Its last book is fetched once Redis confirms the SUBSCRIBE
    // (OnSubscribed, in Start).
    pubsub_.Subscribe(Channel(symbol));
  });
}

void RedisBroker::Unfollow(const std::string& symbol) {
  boost::asio::post(io_, [this, symbol] {
    followed_.erase(symbol);
    pubsub_.Unsubscribe(Channel(symbol));
  });
}

void RedisBroker::OnCommandsState(bool up) {
  assert(InRedisThread());
  if (up) {
    ReadEpoch();
    return;
  }
  if (ready_.load(std::memory_order_relaxed)) {
    // A new outage: a new local epoch, after every one this node used.
    std::uint64_t previous = local_epoch_.load(std::memory_order_relaxed);
    local_epoch_.store(std::max(NowMicros(), previous + 1), std::memory_order_release);
    ready_.store(false, std::memory_order_release);
  }
}

void RedisBroker::ReadEpoch() {
  commands_.EvalSha(epoch_script_, {std::string(kEpochKey)}, {}, [this](const RedisReply* reply) {
    if (reply == nullptr) return;  // Down again: read at the next connect.
    std::optional<std::int64_t> epoch = reply->AsInteger();
    if (!epoch || *epoch <= 0) {
      stats_.bad_replies.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("redis: {} is not an epoch ({}); ordering books locally", kEpochKey,
                    reply->Describe());
      return;
    }
    cluster_epoch_.store(static_cast<std::uint64_t>(*epoch), std::memory_order_release);
    ready_.store(true, std::memory_order_release);
    spdlog::info("redis: cluster epoch {}, node {}", *epoch, node_id_);
    // What was published while this node was away.
    for (const std::string& symbol : followed_) FetchLast(symbol);
  });
}

void RedisBroker::DrainOutbox() {
  assert(InRedisThread());
  if (books_in_flight_ >= limits_.books_in_flight) return;  // An answer drains again.
  std::vector<OutgoingBook> books = outbox_.Take(limits_.books_in_flight - books_in_flight_);
  for (std::size_t first = 0; first < books.size(); first += limits_.books_per_script) {
    std::size_t end = std::min(books.size(), first + limits_.books_per_script);
    auto batch = std::make_shared<Batch>(std::make_move_iterator(books.begin() + first),
                                         std::make_move_iterator(books.begin() + end));
    Publish(std::move(batch));
  }
}

void RedisBroker::Publish(std::shared_ptr<Batch> batch) {
  // Redis went away (or came back and the epoch is not read yet) since the
  // hub handed the books over: a hash created now would get a stale epoch.
  if (!ready()) {
    for (OutgoingBook& book : *batch) HandBack(std::move(book.update));
    return;
  }
  std::vector<std::string> keys;
  std::vector<std::string> args;
  keys.reserve(2 * batch->size());
  args.reserve(3 + batch->size());
  args.push_back(std::to_string(cluster_epoch_.load(std::memory_order_relaxed)));
  args.push_back(node_id_);
  args.push_back(std::to_string(NowMicros()));
  for (const OutgoingBook& book : *batch) {
    keys.push_back(StreamKey(book.update.symbol));
    keys.push_back(Channel(book.update.symbol));
    args.push_back(book.update.data);
  }
  books_in_flight_ += batch->size();
  commands_.EvalSha(publish_script_, std::move(keys), std::move(args),
                    [this, batch](const RedisReply* reply) {
                      books_in_flight_ -= batch->size();
                      OnPublished(*batch, reply);
                      DrainOutbox();
                    });
}

void RedisBroker::OnPublished(Batch& batch, const RedisReply* reply) {
  bool failed = reply == nullptr || reply->is_error();
  if (reply != nullptr && reply->is_error()) {
    spdlog::warn("redis: publish failed: {}", reply->Describe());
  } else if (reply != nullptr && reply->elements().size() != 2 * batch.size()) {
    stats_.bad_replies.fetch_add(1, std::memory_order_relaxed);
    failed = true;
  }
  std::int64_t now_ns = SteadyNanos();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    OutgoingBook& book = batch[i];
    std::uint64_t seq = failed ? 0 : PositiveInteger(reply->at(2 * i));
    std::uint64_t epoch = failed ? 0 : PositiveInteger(reply->at(2 * i + 1));
    if (seq == 0 || epoch == 0) {
      if (!failed) stats_.bad_replies.fetch_add(1, std::memory_order_relaxed);
      HandBack(std::move(book.update));
      continue;
    }
    stats_.books_published.fetch_add(1, std::memory_order_relaxed);
    stats_.publish_round_trip.Observe(
        static_cast<std::uint64_t>(std::max<std::int64_t>(now_ns - book.handed_ns, 0)));
    book.update.position = StreamPosition{seq, epoch};
    Push(std::move(book.update));
  }
  FlushToHub();
}

void RedisBroker::HandBack(BookUpdate update) {
  ++update.retries;
  update.position = StreamPosition{};
  stats_.books_retried.fetch_add(1, std::memory_order_relaxed);
  Push(std::move(update));
}

void RedisBroker::FetchLast(const std::string& symbol) {
  if (!commands_.up()) return;  // Fetched again once it is.
  commands_.Command({"HMGET", StreamKey(symbol), "seq", "epoch", "data"},
                    [this, symbol](const RedisReply* reply) {
                      if (reply == nullptr) return;
                      const RedisReply* data = reply->at(2);
                      if (reply->at(0) != nullptr && reply->at(0)->is_nil()) {
                        return;  // Nothing published yet.
                      }
                      std::uint64_t seq = PositiveInteger(reply->at(0));
                      std::uint64_t epoch = PositiveInteger(reply->at(1));
                      if (seq == 0 || epoch == 0 || !data || !data->text() ||
                          !LooksLikeJsonObject(*data->text())) {
                        stats_.bad_replies.fetch_add(1, std::memory_order_relaxed);
                        return;
                      }
                      BookUpdate update;
                      update.symbol = symbol;
                      update.data = std::string(*data->text());
                      update.received_ns = SteadyNanos();
                      update.position = StreamPosition{seq, epoch};
                      update.stored = true;
                      stats_.books_fetched.fetch_add(1, std::memory_order_relaxed);
                      Push(std::move(update));
                    });
}

void RedisBroker::OnMessage(std::string_view channel, std::string_view payload) {
  auto bad = [this] { stats_.bad_replies.fetch_add(1, std::memory_order_relaxed); };
  std::optional<std::string_view> channel_symbol = SymbolOfChannel(channel);
  if (!channel_symbol) return bad();
  std::string_view symbol = *channel_symbol;
  std::size_t newline = payload.find('\n');
  if (newline == std::string_view::npos) return bad();
  std::string_view header = payload.substr(0, newline);
  std::string_view data = payload.substr(newline + 1);
  // "<seq> <epoch> <node_id> <publish_us>"
  std::string_view fields[4];
  for (int i = 0; i < 4; ++i) {
    std::size_t space = i < 3 ? header.find(' ') : header.size();
    if (space == std::string_view::npos) return bad();
    fields[i] = header.substr(0, space);
    header.remove_prefix(std::min(space + 1, header.size()));
  }
  std::optional<std::uint64_t> seq = ParseNumber(fields[0]);
  std::optional<std::uint64_t> epoch = ParseNumber(fields[1]);
  std::optional<std::uint64_t> published_us = ParseNumber(fields[3]);
  if (!seq || !epoch || !published_us || *seq == 0 || *epoch == 0 || !IsValidNodeId(fields[2])) {
    return bad();
  }
  // This node's own books reach its clients through the script's reply.
  if (fields[2] == node_id_) return;
  if (!LooksLikeJsonObject(data)) return bad();
  std::uint64_t now_us = NowMicros();
  if (now_us >= *published_us) stats_.cross_node_lag.Observe((now_us - *published_us) * 1000);
  stats_.books_received.fetch_add(1, std::memory_order_relaxed);
  BookUpdate update;
  update.symbol = std::string(symbol);
  update.data = std::string(data);
  update.received_ns = SteadyNanos();
  update.position = StreamPosition{*seq, *epoch};
  Push(std::move(update));
}

void RedisBroker::Push(BookUpdate update) {
  to_hub_.emplace_back(std::move(update));
  // hiredis hands over every message of one read in one handler: they go
  // to the hub together, after it.
  if (!std::exchange(flush_posted_, true)) {
    boost::asio::post(io_, [this] {
      flush_posted_ = false;
      FlushToHub();
    });
  }
}

void RedisBroker::FlushToHub() {
  if (to_hub_.empty()) return;
  std::size_t count = to_hub_.size();
  // Never blocks: books from Redis are bounded by what Redis delivers.
  if (queue_.PushUpdates(token_, to_hub_)) {
    stats_.books_over_high_water.fetch_add(count, std::memory_order_relaxed);
  }
}

}  // namespace obgw::gateway
