#include "gateway/server/listener.h"

#include <algorithm>
#include <cassert>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "gateway/logging/event_log.h"
#include "gateway/server/gateway_config.h"
#include "gateway/server/shard.h"

namespace obgw::gateway {

namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

absl::StatusOr<std::shared_ptr<Listener>> Listener::Bind(const std::string& address,
                                                         std::uint16_t port,
                                                         std::vector<Shard*> shards,
                                                         OnConnection on_connection) {
  boost::system::error_code ec;
  auto ip = net::ip::make_address(address, ec);
  if (ec) return absl::InvalidArgumentError("invalid --bind address '" + address + "'");
  tcp::endpoint endpoint(ip, port);
  tcp::acceptor acceptor(shards.front()->io_context());
  auto where = address + ":" + std::to_string(port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError("cannot listen for HTTP on " + where + ": " + ec.message());
  return std::shared_ptr<Listener>(
      new Listener(std::move(acceptor), std::move(shards), std::move(on_connection)));
}

Listener::Listener(tcp::acceptor acceptor, std::vector<Shard*> shards, OnConnection on_connection)
    : acceptor_(std::move(acceptor)),
      retry_timer_(acceptor_.get_executor()),
      shards_(std::move(shards)),
      on_connection_(std::move(on_connection)) {
  port_ = acceptor_.local_endpoint().port();
  const GatewayConfig& config = shards_.front()->config();
  if (config.connection_rate_per_ip > 0) {
    rate_limiter_ = std::make_unique<ConnectionRateLimiter>(
        config.connection_rate_per_ip, std::max<std::size_t>(1, config.connection_burst_per_ip));
  }
}

bool Listener::Admit(tcp::socket& socket) {
  Shard& home = *shards_.front();
  assert(home.InThisThread());
  if (rate_limiter_ == nullptr) return true;
  boost::system::error_code ec;
  tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return false;  // Gone already (reset before we got to it).
  if (rate_limiter_->Admit(peer.address(), home.clock().Now())) return true;
  home.stats().connections_refused_rate.fetch_add(1, std::memory_order_relaxed);
  LogEvent(LogKind::http_rejected, spdlog::level::warn, "connection_refused", [&](LogFields& line) {
    line.AddPeer("peer", peer.address().to_string(), peer.port()).Add("why", "connection_rate");
  });
  // RST, not FIN: no TIME_WAIT left here by a client that loops on connect.
  socket.set_option(net::socket_base::linger(true, 0), ec);
  return false;
}

void Listener::Start() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] { self->DoAccept(); });
}

void Listener::Stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
}

void Listener::DoAccept() {
  // The socket is created on the shard that will own the connection.
  Shard* shard = shards_[next_shard_++ % shards_.size()];
  acceptor_.async_accept(
      shard->io_context(),
      [self = shared_from_this(), shard](boost::system::error_code ec, tcp::socket socket) {
        self->OnAccept(shard, ec, std::move(socket));
      });
}

void Listener::OnAccept(Shard* shard, boost::system::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;  // Stopped.
  if (ec) {
    // Out of file descriptors and the like: log, pause, keep accepting, so a
    // persistent error does not spin a core.
    spdlog::warn("accept: {}", ec.message());
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
      if (!wait_ec) self->DoAccept();
    });
    return;
  }
  if (!Admit(socket)) {
    boost::system::error_code ignored;
    socket.close(ignored);
  } else {
    socket.set_option(tcp::no_delay(true), ec);
    net::post(shard->io_context(),
              [self = shared_from_this(), socket = std::move(socket), shard]() mutable {
                self->on_connection_(std::move(socket), *shard);
              });
  }
  DoAccept();
}

}  // namespace obgw::gateway
