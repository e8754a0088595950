#ifndef OBGW_GATEWAY_HTTP_TRANSPORT_DETECTOR_H_
#define OBGW_GATEWAY_HTTP_TRANSPORT_DETECTOR_H_

#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace obgw::gateway {

class Shard;
class TlsContext;

// One new connection on an HTTP port that serves TLS and plaintext side by
// side (--tls_allow_plaintext): reads until the first bytes tell a TLS
// ClientHello from anything else (beast::async_detect_ssl), bounded by
// --tls_handshake_timeout_ms (counted as tls_handshake_timeout, like a slow
// handshake), then hands the stream and what it read to a TlsHttpSession
// (with the context current now) or a PlainHttpSession. Runs on its shard's
// thread; owns the stream until the hand-over.
class TransportDetector : public std::enable_shared_from_this<TransportDetector> {
 public:
  TransportDetector(boost::asio::ip::tcp::socket socket, Shard& shard, const TlsContext& tls);
  void Run();

 private:
  void OnDetect(boost::beast::error_code ec, bool tls);

  boost::beast::tcp_stream stream_;
  Shard& shard_;
  const TlsContext& tls_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_HTTP_TRANSPORT_DETECTOR_H_
