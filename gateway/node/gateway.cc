#include "gateway/node/gateway.h"

#include <cassert>
#include <future>
#include <thread>

#include "gateway/http/http_session.h"
#include "gateway/http/transport_detector.h"
#include "gateway/tls/tls_context.h"

namespace obgw::gateway {

Gateway::Gateway(GatewayConfig config, const ClusterFactory& make_cluster)
    : state_(std::make_unique<SharedState>(std::move(config), make_cluster)) {
  for (std::uint32_t i = 0; i < state_->config.threads; ++i) {
    shards_.push_back(std::make_unique<Shard>(i, *state_));
  }
  hub_ = std::make_unique<Hub>(
      state_->queue, state_->config.threads, state_->broker(),
      [this](std::uint32_t shard, std::vector<FramePtr> frames, std::size_t deliveries) {
        shards_[shard]->PostFrames(std::move(frames), [this, shard, deliveries] {
          hub_->BatchDelivered(shard, deliveries);
        });
      },
      state_->hub_stats, &state_->subscriber_counts);
}

Gateway::~Gateway() { Stop(std::chrono::milliseconds(0)); }

absl::Status Gateway::Start() {
  std::vector<Shard*> shards;
  for (auto& shard : shards_) shards.push_back(shard.get());
  Listener::OnConnection on_connection = [](boost::asio::ip::tcp::socket socket, Shard& shard) {
    std::make_shared<PlainHttpSession>(boost::beast::tcp_stream(std::move(socket)), shard)->Run();
  };
  if (state_->config.tls && state_->config.tls_allow_plaintext) {
    // Both on one port: the first bytes decide.
    on_connection = [tls = state_->config.tls](boost::asio::ip::tcp::socket socket, Shard& shard) {
      std::make_shared<TransportDetector>(std::move(socket), shard, *tls)->Run();
    };
  } else if (state_->config.tls) {
    // HTTPS + WSS only: each connection takes the context current at its
    // accept (a reload affects new connections).
    on_connection = [tls = state_->config.tls](boost::asio::ip::tcp::socket socket, Shard& shard) {
      std::shared_ptr<boost::asio::ssl::context> context = tls->Current();
      std::make_shared<TlsHttpSession>(
          TlsStream(boost::beast::tcp_stream(std::move(socket)), *context), shard)
          ->Run();
    };
  }
  auto listener = Listener::Bind(state_->config.bind, state_->config.http_port, shards,
                                 std::move(on_connection));
  if (!listener.ok()) return listener.status();
  listener_ = *std::move(listener);
  state_->cluster->Start();
  for (auto& shard : shards_) shard->Start();
  hub_->Start();
  listener_->Start();
  running_ = true;
  if (health_observer_) {
    health_timer_ = std::make_unique<boost::asio::steady_timer>(shards_[0]->io_context());
    boost::asio::post(shards_[0]->io_context(), [this] { CheckHealth(); });
  }
  return absl::OkStatus();
}

void Gateway::CheckHealth() {
  assert(shards_[0]->InThisThread());
  // A wait that had completed before StopHealthCheck cancelled it.
  if (!health_observer_) return;
  Health health = CurrentHealth(*state_);
  if (health != last_health_) {
    last_health_ = health;
    health_observer_(health);
  }
  health_timer_->expires_after(kHealthCheckInterval);
  health_timer_->async_wait([this](boost::system::error_code error) {
    if (!error) CheckHealth();
  });
}

void Gateway::StopHealthCheck() {
  if (health_timer_ == nullptr) return;
  // On shard 0's thread, where the check runs: once this returns the
  // observer is never called again.
  std::promise<void> stopped;
  boost::asio::post(shards_[0]->io_context(), [this, &stopped] {
    health_timer_->cancel();
    health_observer_ = nullptr;
    stopped.set_value();
  });
  stopped.get_future().wait();
}

void Gateway::StopAccepting() {
  if (running_) listener_->Stop();
}

void Gateway::Stop(std::chrono::milliseconds grace) {
  if (!running_) return;
  running_ = false;
  StopHealthCheck();
  listener_->Stop();
  for (auto& shard : shards_) shard->CloseAllSessions();
  // Give clients the grace period to answer the close handshake.
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (state_->OpenConnections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  hub_->Stop();
  for (auto& shard : shards_) shard->Stop();
  // Its thread is gone: the timer can go.
  health_timer_.reset();
  state_->cluster->Stop();
}

}  // namespace obgw::gateway
