#ifndef OBGW_GATEWAY_HTTP_HTTP_SESSION_H_
#define OBGW_GATEWAY_HTTP_HTTP_SESSION_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "gateway/auth/jwt_verifier.h"
#include "gateway/http/http_reply.h"
#include "gateway/http/router.h"
#include "gateway/tls/tls_stream.h"

namespace obgw::gateway {

class Shard;

// One HTTP/1.1 connection over `Stream`: a beast::tcp_stream, or a TlsStream
// over one (HTTPS), whose server handshake Run does first, bounded by
// --tls_handshake_timeout_ms and counted (tls_handshakes,
// tls_handshake_failed, tls_handshake_timeout); a failed one just drops the
// connection. Runs on its shard's thread.
//
// Owns the stream until a WebSocket upgrade hands it to a WebSocketSession.
// Does the connection I/O only: reads one request at a time (keep-alive),
// asks the router where it goes (router.h), lets the route's handler answer
// through Respond, and writes the reply; a HEAD gets the GET reply's headers
// without its body. Instantiated in http_session.cc for each stream type.
// Every reply of status 400 or more is an http_rejected log line (issue 13:
// peer, method, path without the query, status, code; rate limited).
template <class Stream>
class HttpSession final : public HttpResponder,
                          public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  // `read_ahead`: bytes already read from the connection (by a
  // TransportDetector), consumed before the socket is read.
  HttpSession(Stream stream, Shard& shard, boost::beast::flat_buffer read_ahead = {});
  void Run();

  // HttpResponder: writes `reply`, then reads the next request or hangs up.
  void Respond(HttpReply reply) override;

 private:
  void OnHandshake(boost::beast::error_code ec);
  void DoRead();
  void OnRead(boost::beast::error_code ec, std::size_t bytes);
  void Handle(HttpRequest request);
  // `claims`: the verified ?token=, if any.
  void UpgradeToWebSocket(HttpRequest request, WebSocketTarget target,
                          std::optional<JwtClaims> claims);
  void OnWrite(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);
  void LingeringClose();
  void Discard();

  Stream stream_;
  Shard& shard_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  boost::beast::http::response<boost::beast::http::string_body> response_;
  // Of the request being answered; the defaults answer one that could not be
  // parsed.
  unsigned version_ = 11;
  // For the http_rejected line: the request's method and path (no query:
  // it may hold ?token=).
  boost::beast::http::verb method_ = boost::beast::http::verb::unknown;
  std::string path_;
  bool keep_alive_ = false;
  bool head_ = false;
};

using PlainHttpSession = HttpSession<boost::beast::tcp_stream>;
using TlsHttpSession = HttpSession<TlsStream>;

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_HTTP_HTTP_SESSION_H_
