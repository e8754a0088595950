#ifndef OBGW_GATEWAY_SERVER_LISTENER_H_
#define OBGW_GATEWAY_SERVER_LISTENER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <absl/status/statusor.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/server/connection_rate_limiter.h"

namespace obgw::gateway {

class Shard;

// Accepts TCP connections on the HTTP port and deals them round-robin to the
// shards; each connection then lives on its shard. With
// --connection_rate_per_ip, a connection over its peer IP's rate is closed
// (RST) right here, before it reaches a shard (connections_refused_rate).
// The acceptor runs on shard 0's thread; Stop may be called from any thread.
// Owns the acceptor and the per-IP rate limiter.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Takes a new connection on its shard's thread (the node starts an HTTP
  // session on it).
  using OnConnection = std::function<void(boost::asio::ip::tcp::socket socket, Shard& shard)>;

  // Binds and listens; a busy or invalid address fails here, with a reason.
  static absl::StatusOr<std::shared_ptr<Listener>> Bind(const std::string& address,
                                                        std::uint16_t port,
                                                        std::vector<Shard*> shards,
                                                        OnConnection on_connection);

  void Start();
  // Any thread: stops accepting.
  void Stop();
  std::uint16_t port() const { return port_; }

 private:
  Listener(boost::asio::ip::tcp::acceptor acceptor, std::vector<Shard*> shards,
           OnConnection on_connection);
  void DoAccept();
  void OnAccept(Shard* shard, boost::system::error_code ec, boost::asio::ip::tcp::socket socket);
  // Whether an accepted connection may proceed (the per-IP rate); a refused
  // one is counted and set to reset on close.
  bool Admit(boost::asio::ip::tcp::socket& socket);

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::vector<Shard*> shards_;
  OnConnection on_connection_;
  // Null without --connection_rate_per_ip. Shard 0's thread only.
  std::unique_ptr<ConnectionRateLimiter> rate_limiter_;
  std::size_t next_shard_ = 0;
  std::uint16_t port_ = 0;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_SERVER_LISTENER_H_
