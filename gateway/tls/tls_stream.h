#ifndef OBGW_GATEWAY_TLS_TLS_STREAM_H_
#define OBGW_GATEWAY_TLS_TLS_STREAM_H_

#include <type_traits>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace obgw::gateway {

// The stream of a TLS connection on the HTTP port, from the handshake to the
// end of its WebSocket: HttpSession<TlsStream> hands it whole to
// WebSocketSession<TlsStream> (an SSL session cannot change streams). Asio's
// ssl::stream, not beast::ssl_stream: the latter adds a flat_stream whose
// coalescing buffer (up to 64 KiB) stays allocated per connection, and the
// Outbox already gathers its writes. Over beast::tcp_stream so that the HTTP
// timeouts (expires_after on the lowest layer) bound the TLS handshake and
// shutdown too.
using TlsStream = boost::asio::ssl::stream<boost::beast::tcp_stream>;

// Whether `Stream` decrypts what it reads: its readability is not the
// socket's (OpenSSL may hold a whole record), so it is read with
// async_read_some, never with a non-blocking read_some after a wait.
template <class Stream>
inline constexpr bool kIsTlsStream = std::is_same_v<Stream, TlsStream>;

// The TCP socket under each stream type (socket options, readiness polls).
inline boost::asio::ip::tcp::socket& TcpSocketOf(boost::asio::ip::tcp::socket& socket) {
  return socket;
}
inline boost::asio::ip::tcp::socket& TcpSocketOf(boost::beast::tcp_stream& stream) {
  return stream.socket();
}
inline boost::asio::ip::tcp::socket& TcpSocketOf(TlsStream& stream) {
  return stream.next_layer().socket();
}

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_TLS_TLS_STREAM_H_
