#include "gateway/server/shard.h"

#include <algorithm>
#include <cassert>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

namespace obgw::gateway {

Shard::Shard(std::uint32_t index, SharedState& state, const Clock& clock)
    : index_(index),
      state_(state),
      clock_(clock),
      stats_(*state.shard_stats.at(index)),
      token_(state.queue.MakeToken()),
      now_(clock.Now()) {
  if (state.config.deflate) {
    deflater_ = std::make_unique<FrameDeflater>(state.config.deflate_level,
                                                state.config.deflate_min_bytes, stats_);
    inflater_ = std::make_unique<MessageInflater>();
  }
}

Shard::~Shard() { Stop(); }

void Shard::Start() {
  work_.emplace(io_context_.get_executor());
  boost::asio::post(io_context_, [this] { Sweep(); });
  thread_ = std::thread([this] {
    affinity_.BindToThisThread();
    for (;;) {
      try {
        io_context_.run();
        return;
      } catch (const std::exception& e) {
        // A handler threw: log it and keep serving the other sessions.
        spdlog::error("shard {}: unhandled exception: {}", index_, e.what());
      }
    }
  });
}

void Shard::Stop() {
  work_.reset();
  io_context_.stop();
  if (thread_.joinable()) thread_.join();
  affinity_.Unbind();
}

void Shard::PostFrames(std::vector<FramePtr> frames, std::function<void()> delivered) {
  boost::asio::post(io_context_,
                    [this, frames = std::move(frames), delivered = std::move(delivered)] {
                      Deliver(frames);
                      delivered();
                    });
}

void Shard::CloseAllSessions() {
  boost::asio::post(io_context_, [this] {
    std::vector<std::shared_ptr<ShardSession>> sessions;
    for (ShardSession* session : sessions_) sessions.push_back(session->Keep());
    for (auto& session : sessions) session->CloseGoingAway();
  });
}

void Shard::Sweep() {
  assert(InThisThread());
  now_ = clock_.Now();
  std::vector<std::shared_ptr<ShardSession>> sessions;
  sessions.reserve(sessions_.size());
  for (ShardSession* session : sessions_) sessions.push_back(session->Keep());
  for (auto& session : sessions) session->Tick(now_);
  // A quarter of the shortest deadline, so each fires at most 25% late;
  // at least 20 ms, so 15,000 idle sessions cost little.
  const GatewayConfig& c = config();
  auto period = std::chrono::milliseconds(1000);
  for (auto deadline : {c.ping_interval, c.idle_timeout, c.send_timeout, c.slow_consumer_grace}) {
    if (deadline.count() > 0) period = std::min(period, deadline / 4);
  }
  // Browser authentication: the first message's deadline.
  if (c.jwt_verifier != nullptr && c.auth_timeout.count() > 0) {
    period = std::min(period, c.auth_timeout / 4);
  }
  sweep_timer_.expires_after(std::max(period, std::chrono::milliseconds(20)));
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) Sweep();
  });
}

void Shard::Deliver(const std::vector<FramePtr>& frames) {
  assert(InThisThread());
  for (const FramePtr& frame : frames) {
    auto it = subscribers_.find(frame->symbol());
    if (it == subscribers_.end()) continue;  // Unsubscribed since the hub routed it.
    for (ShardSession* session : it->second) {
      if (session->Queue(frame)) to_flush_.push_back(session);
    }
  }
  // Writes start once every batch already waiting on this shard is queued
  // too: the flush is posted behind them. An idle shard flushes right after
  // this batch; a busy one merges many batches into each session's next
  // gather write (adaptive coalescing: fewer syscalls the higher the load).
  if (!to_flush_.empty() && !flush_posted_) {
    flush_posted_ = true;
    boost::asio::post(io_context_, [this] { FlushQueued(); });
  }
}

void Shard::FlushQueued() {
  assert(InThisThread());
  flush_posted_ = false;
  std::vector<ShardSession*> sessions;
  sessions.swap(to_flush_);
  for (ShardSession* session : sessions) session->Flush();
  sessions.clear();
  if (to_flush_.empty()) to_flush_.swap(sessions);  // Keep the capacity.
}

void Shard::Register(ShardSession* session) {
  assert(InThisThread());
  sessions_.insert(session);
  stats_.connections.fetch_add(1, std::memory_order_relaxed);
  stats_.connections_total.fetch_add(1, std::memory_order_relaxed);
}

void Shard::Unregister(ShardSession* session) {
  assert(InThisThread());
  if (sessions_.erase(session) > 0) stats_.connections.fetch_sub(1, std::memory_order_relaxed);
  // It may die before the posted flush runs.
  std::erase(to_flush_, session);
}

void Shard::AddSubscriber(const std::string& symbol, ShardSession* session) {
  assert(InThisThread());
  subscribers_[symbol].push_back(session);
  stats_.subscriptions.fetch_add(1, std::memory_order_relaxed);
}

void Shard::RemoveSubscriber(const std::string& symbol, ShardSession* session) {
  assert(InThisThread());
  auto it = subscribers_.find(symbol);
  if (it == subscribers_.end()) return;
  auto& sessions = it->second;
  auto pos = std::find(sessions.begin(), sessions.end(), session);
  if (pos == sessions.end()) return;
  *pos = sessions.back();
  sessions.pop_back();
  if (sessions.empty()) subscribers_.erase(it);
  stats_.subscriptions.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace obgw::gateway
