#ifndef OBGW_GATEWAY_LISTENER_H_
#define OBGW_GATEWAY_LISTENER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <absl/status/statusor.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace obgw::gateway {

class Shard;

// Accepts TCP connections on the HTTP port and deals them round-robin to the
// shards; each connection then lives on its shard. Runs on shard 0's thread.
// Owns the acceptor.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Binds and listens; a busy or invalid address fails here, with a reason.
  static absl::StatusOr<std::shared_ptr<Listener>> Bind(const std::string& address,
                                                        std::uint16_t port,
                                                        std::vector<Shard*> shards);

  void Start();
  // Any thread: stops accepting.
  void Stop();
  std::uint16_t port() const { return port_; }

 private:
  Listener(boost::asio::ip::tcp::acceptor acceptor, std::vector<Shard*> shards);
  void DoAccept();
  void OnAccept(Shard* shard, boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::vector<Shard*> shards_;
  std::size_t next_shard_ = 0;
  std::uint16_t port_ = 0;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_LISTENER_H_
