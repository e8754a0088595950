#include "gateway/http/http_session.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "gateway/auth/jwt_verifier.h"
#include "gateway/http/origin_policy.h"
#include "gateway/logging/event_log.h"
#include "gateway/server/shard.h"
#include "gateway/ws/session_auth.h"
#include "gateway/ws/websocket_session.h"

namespace obgw::gateway {

namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {

// The WebSocket session that takes over an upgraded connection of each HTTP
// stream type, and how the HTTP stream hands its transport over.
template <class Stream>
struct WebSocketOver;

template <>
struct WebSocketOver<beast::tcp_stream> {
  using Session = PlainWebSocketSession;
  static boost::asio::ip::tcp::socket Release(beast::tcp_stream& stream) {
    return stream.release_socket();
  }
};

// The SSL session is bound to its stream: the whole stream moves.
template <>
struct WebSocketOver<TlsStream> {
  using Session = TlsWebSocketSession;
  static TlsStream Release(TlsStream& stream) { return std::move(stream); }
};

// The ends of a connection that deserve no reply: the peer left (for TLS,
// also without close_notify, which HTTP clients routinely do) or was silent
// too long.
bool PeerGone(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == beast::error::timeout ||
         ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset ||
         ec == boost::asio::ssl::error::stream_truncated;
}

}  // namespace

template <class Stream>
HttpSession<Stream>::HttpSession(Stream stream, Shard& shard, beast::flat_buffer read_ahead)
    : stream_(std::move(stream)), shard_(shard), buffer_(std::move(read_ahead)) {}

template <class Stream>
void HttpSession<Stream>::Run() {
  if constexpr (kIsTlsStream<Stream>) {
    assert(shard_.InThisThread());
    // Bounded like the request head (slowloris): a client that sends nothing,
    // or half a ClientHello, holds the connection this long at most.
    beast::get_lowest_layer(stream_).expires_after(shard_.config().tls_handshake_timeout);
    if (buffer_.size() > 0) {
      // The start of the ClientHello, read by the TransportDetector.
      stream_.async_handshake(
          boost::asio::ssl::stream_base::server, buffer_.data(),
          [self = this->shared_from_this()](beast::error_code ec, std::size_t used) {
            self->buffer_.consume(used);
            self->OnHandshake(ec);
          });
      return;
    }
    stream_.async_handshake(
        boost::asio::ssl::stream_base::server,
        beast::bind_front_handler(&HttpSession::OnHandshake, this->shared_from_this()));
  } else {
    DoRead();
  }
}

template <class Stream>
void HttpSession<Stream>::OnHandshake(beast::error_code ec) {
  assert(shard_.InThisThread());
  if (!ec) {
    shard_.stats().tls_handshakes.fetch_add(1, std::memory_order_relaxed);
    return DoRead();
  }
  // The connection ends here (this session was its only owner); the stream
  // is dropped without close_notify, since no TLS session was established.
  if (ec == beast::error::timeout) {
    shard_.stats().tls_handshake_timeout.fetch_add(1, std::memory_order_relaxed);
  } else {
    shard_.stats().tls_handshake_failed.fetch_add(1, std::memory_order_relaxed);
    // OpenSSL's reason ("http request", "no shared cipher"): no secret in it.
    spdlog::debug("TLS handshake failed: {}", ec.message());
  }
}

template <class Stream>
void HttpSession<Stream>::DoRead() {
  assert(shard_.InThisThread());
  // A fresh parser per request: the body limit applies to each one, and a
  // Content-Length over it fails at the header, before any body is read.
  parser_.emplace();
  parser_->body_limit(shard_.config().max_body_bytes);
  version_ = 11;
  keep_alive_ = false;
  head_ = false;
  method_ = http::verb::unknown;
  path_.clear();
  beast::get_lowest_layer(stream_).expires_after(shard_.config().handshake_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&HttpSession::OnRead, this->shared_from_this()));
}

template <class Stream>
void HttpSession<Stream>::OnRead(beast::error_code ec, std::size_t) {
  if (PeerGone(ec)) {
    TcpSocketOf(stream_).shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
    return;
  }
  if (ec == http::error::body_limit) {
    shard_.stats().rest_rejected.fetch_add(1, std::memory_order_relaxed);
    return Respond(
        ErrorReply(http::status::payload_too_large, "body_too_large",
                   "body exceeds " + std::to_string(shard_.config().max_body_bytes) + " bytes"));
  }
  if (ec) {
    // Malformed HTTP: answer once and hang up, the stream is out of sync.
    return Respond(ErrorReply(http::status::bad_request, "bad_request",
                              "malformed HTTP request: " + ec.message()));
  }
  shard_.stats().http_requests.fetch_add(1, std::memory_order_relaxed);
  Handle(parser_->release());
}

template <class Stream>
void HttpSession<Stream>::Handle(HttpRequest request) {
  version_ = request.version();
  keep_alive_ = request.keep_alive();
  method_ = request.method();
  std::string_view target = request.target();
  path_.assign(target.substr(0, std::min<std::size_t>(target.find('?'), 200)));
  head_ = request.method() == http::verb::head;
  RouteDecision decision = RouteRequest(request, !shard_.config().web_root.empty());
  if (decision.upgrade) {
    const GatewayConfig& config = shard_.config();
    if (!OriginAllowed(config.allowed_origins, config.allow_missing_origin, request)) {
      shard_.stats().ws_refused_origin.fetch_add(1, std::memory_order_relaxed);
      HttpReply reply = ErrorReply(http::status::forbidden, "origin_forbidden",
                                   "this page's Origin may not open a WebSocket here");
      reply.close = true;
      return Respond(std::move(reply));
    }
    std::optional<JwtClaims> claims;
    if (config.jwt_verifier != nullptr && decision.upgrade->token) {
      // Checked before the upgrade: a bad token costs no WebSocket.
      JwtVerdict verdict = config.jwt_verifier->VerifyFor(
          *decision.upgrade->token, decision.upgrade->client_id, std::chrono::system_clock::now());
      if (!verdict.ok()) {
        CountRejection(shard_.stats(), verdict.error);
        HttpReply reply = ErrorReply(http::status::unauthorized, JwtErrorCode(verdict.error),
                                     JwtErrorMessage(verdict.error));
        // RFC 6750 3.1.
        reply.headers.emplace_back(http::field::www_authenticate, "Bearer error=\"invalid_token\"");
        reply.close = true;
        return Respond(std::move(reply));
      }
      shard_.stats().ws_auth_accepted.fetch_add(1, std::memory_order_relaxed);
      claims = std::move(verdict.claims);
    }
    return UpgradeToWebSocket(std::move(request), *std::move(decision.upgrade), std::move(claims));
  }
  if (decision.route != nullptr) {
    return decision.route->handler(shard_, request, this->shared_from_this());
  }
  if (decision.refusal_counter != nullptr) {
    (shard_.stats().*decision.refusal_counter).fetch_add(1, std::memory_order_relaxed);
  }
  Respond(*std::move(decision.refusal));
}

template <class Stream>
void HttpSession<Stream>::UpgradeToWebSocket(HttpRequest request, WebSocketTarget target,
                                             std::optional<JwtClaims> claims) {
  beast::get_lowest_layer(stream_).expires_never();
  // The WebSocket session takes the connection; this session ends here.
  std::make_shared<typename WebSocketOver<Stream>::Session>(
      WebSocketOver<Stream>::Release(stream_), shard_, std::move(target.client_id), target.throttle,
      target.restore, std::move(claims))
      ->Run(std::move(request));
}

template <class Stream>
void HttpSession<Stream>::Respond(HttpReply reply) {
  assert(shard_.InThisThread());
  bool keep_alive = keep_alive_ && !reply.close;
  if (static_cast<unsigned>(reply.status) >= 400) {
    LogEvent(LogKind::http_rejected, spdlog::level::warn, "http_rejected", [&](LogFields& line) {
      beast::error_code ec;
      boost::asio::ip::tcp::endpoint peer = TcpSocketOf(stream_).remote_endpoint(ec);
      beast::string_view method = http::to_string(method_);
      line.AddPeer("peer", peer.address().to_string(), peer.port())
          .Add("method", method_ == http::verb::unknown
                             ? std::string_view("-")
                             : std::string_view(method.data(), method.size()))
          .Add("path", path_)
          .Add("status", static_cast<unsigned>(reply.status))
          .Add("code", reply.error_code)
          .Add("tls", kIsTlsStream<Stream>);
    });
  }
  response_.result(reply.status);
  response_.version(version_);
  response_.set(http::field::server, "orderbook-gateway");
  response_.set(http::field::content_type, "application/json");
  for (auto& [field, value] : reply.headers) response_.set(field, std::move(value));
  for (auto& [name, value] : reply.named_headers) response_.set(name, std::move(value));
  response_.keep_alive(keep_alive);
  // A reply to HEAD has the headers of the full reply and no body.
  std::size_t size = reply.body.size();
  response_.body() = head_ ? std::string() : std::move(reply.body);
  response_.prepare_payload();
  if (head_) response_.content_length(size);
  // A 304 has no body; a Content-Length would have to be the 200's (RFC 9110
  // section 8.6), so none is sent.
  if (reply.status == http::status::not_modified) response_.erase(http::field::content_length);
  http::async_write(
      stream_, response_,
      beast::bind_front_handler(&HttpSession::OnWrite, this->shared_from_this(), keep_alive));
}

template <class Stream>
void HttpSession<Stream>::OnWrite(bool keep_alive, beast::error_code ec, std::size_t) {
  response_ = {};
  if (ec) return;
  if (!keep_alive) return LingeringClose();
  DoRead();
}

template <class Stream>
void HttpSession<Stream>::LingeringClose() {
  // Closing a socket with unread bytes makes the kernel send RST, which can
  // destroy the reply before the client reads it (a 413 sent while the body
  // is still arriving). So: half-close, then discard input until the client
  // closes, for a bounded time.
  auto& lowest = beast::get_lowest_layer(stream_);
  lowest.expires_after(std::chrono::seconds(2));
  if constexpr (kIsTlsStream<Stream>) {
    // TLS: close_notify first (OpenSSL discards the application data that
    // arrives meanwhile), then the same half-close and discard.
    stream_.async_shutdown([self = this->shared_from_this()](beast::error_code ec) {
      if (ec == beast::error::timeout) return;
      beast::error_code ignored;
      TcpSocketOf(self->stream_).shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
      self->Discard();
    });
  } else {
    beast::error_code ignored;
    lowest.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    Discard();
  }
}

template <class Stream>
void HttpSession<Stream>::Discard() {
  buffer_.clear();
  // After a TLS shutdown what arrives is not decrypted: the TCP stream is
  // read, still bounded by LingeringClose's expiry.
  beast::get_lowest_layer(stream_).async_read_some(
      buffer_.prepare(64 << 10),
      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
        if (!ec) self->Discard();
      });
}

template class HttpSession<beast::tcp_stream>;
template class HttpSession<TlsStream>;

}  // namespace obgw::gateway
