#include "gateway/http/http_session.h"

#include <charconv>
#include <optional>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include "gateway/http/broadcast_request.h"
#include "gateway/server/shard.h"
#include "gateway/http/status_report.h"
#include "gateway/ws/websocket_session.h"

namespace obgw::gateway {

namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {

constexpr std::string_view kWebSocketPrefix = "/ws/";
constexpr std::chrono::milliseconds kMaxThrottle{60000};

// ?throttle_ms=N on the WebSocket URL: absent is 0 (no throttle); anything
// but an integer in [0, kMaxThrottle] is refused.
std::optional<std::chrono::milliseconds> ParseThrottle(boost::urls::params_view params) {
  auto it = params.find("throttle_ms");
  if (it == params.end()) return std::chrono::milliseconds(0);
  std::string text = (*it).value;
  long long value = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 ||
      value > kMaxThrottle.count()) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(value);
}
constexpr std::size_t kMaxClientIdLength = 128;

bool IsValidClientId(std::string_view id) {
  if (id.empty() || id.size() > kMaxClientIdLength) return false;
  for (unsigned char c : id) {
    if (c < 0x20 || c == 0x7F) return false;
  }
  return true;
}

}  // namespace

HttpSession::HttpSession(boost::asio::ip::tcp::socket socket, Shard& shard)
    : stream_(std::move(socket)), shard_(shard) {}

void HttpSession::Run() { DoRead(); }

void HttpSession::DoRead() {
  // A fresh parser per request: the body limit applies to each one, and a
  // Content-Length over it fails at the header, before any body is read.
  parser_.emplace();
  parser_->body_limit(shard_.config().max_body_bytes);
  stream_.expires_after(shard_.config().handshake_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&HttpSession::OnRead, shared_from_this()));
}

void HttpSession::OnRead(beast::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset) {
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
    return;
  }
  if (ec == http::error::body_limit) {
    shard_.stats().rest_rejected.fetch_add(1, std::memory_order_relaxed);
    return ReplyError(http::status::payload_too_large, "body_too_large",
                      "body exceeds " + std::to_string(shard_.config().max_body_bytes) + " bytes",
                      false);
  }
  if (ec) {
    // Malformed HTTP: answer once and hang up, the stream is out of sync.
    return ReplyError(http::status::bad_request, "bad_request",
                      "malformed HTTP request: " + ec.message(), false);
  }
  shard_.stats().http_requests.fetch_add(1, std::memory_order_relaxed);
  Handle(parser_->release());
}

void HttpSession::Handle(Request request) {
  version_ = request.version();
  head_ = request.method() == http::verb::head;
  bool keep_alive = request.keep_alive();
  auto url = boost::urls::parse_origin_form(request.target());
  if (!url) {
    return ReplyError(http::status::bad_request, "bad_request", "malformed request target",
                      keep_alive);
  }
  std::string path = url->path();

  if (path.starts_with(kWebSocketPrefix) && beast::websocket::is_upgrade(request)) {
    std::string client_id = path.substr(kWebSocketPrefix.size());
    if (!IsValidClientId(client_id) || client_id.find('/') != std::string::npos) {
      return ReplyError(http::status::bad_request, "invalid_client_id",
                        "client_id must be 1-128 characters, no '/' or control characters", false);
    }
    auto throttle = ParseThrottle(url->params());
    if (!throttle) {
      return ReplyError(
          http::status::bad_request, "invalid_throttle",
          "throttle_ms must be an integer from 0 to " + std::to_string(kMaxThrottle.count()),
          false);
    }
    stream_.expires_never();
    // The WebSocket session takes the socket; this session ends here.
    std::make_shared<PlainWebSocketSession>(stream_.release_socket(), shard_, std::move(client_id),
                                            *throttle)
        ->Run(std::move(request));
    return;
  }
  if (path == "/broadcast/orderbook") {
    if (request.method() != http::verb::post) {
      shard_.stats().rest_rejected.fetch_add(1, std::memory_order_relaxed);
      response_.set(http::field::allow, "POST");
      return ReplyError(http::status::method_not_allowed, "method_not_allowed",
                        "use POST for /broadcast/orderbook", keep_alive);
    }
    return HandleBroadcast(request);
  }
  if (path == "/health" || path == "/stats") {
    if (request.method() != http::verb::get) {
      response_.set(http::field::allow, "GET");
      return ReplyError(http::status::method_not_allowed, "method_not_allowed",
                        "use GET for " + path, keep_alive);
    }
    const SharedState& state = shard_.state();
    return Reply(http::status::ok, path == "/health" ? RenderHealth(state) : RenderStats(state),
                 keep_alive);
  }
  if (path == "/metrics") {
    if (request.method() != http::verb::get && !head_) {
      response_.set(http::field::allow, "GET, HEAD");
      return ReplyError(http::status::method_not_allowed, "method_not_allowed",
                        "use GET for /metrics", keep_alive);
    }
    return Reply(http::status::ok, RenderMetrics(shard_.state()), keep_alive,
                 kPrometheusContentType);
  }
  if (path.starts_with(kWebSocketPrefix)) {
    return ReplyError(http::status::upgrade_required, "upgrade_required",
                      "/ws/{client_id} takes a WebSocket upgrade", keep_alive);
  }
  ReplyError(http::status::not_found, "not_found", "Not Found", keep_alive);
}

void HttpSession::HandleBroadcast(Request& request) {
  bool keep_alive = request.keep_alive();
  auto url = boost::urls::parse_origin_form(request.target());
  auto params = url->params();
  auto it = params.find("symbol");
  bool has_symbol = it != params.end() && (*it).has_value;
  std::string symbol = has_symbol ? std::string((*it).value) : std::string();
  BroadcastCheck check = CheckBroadcast(has_symbol, symbol, request.body());
  if (check.status != 0) {
    shard_.stats().rest_rejected.fetch_add(1, std::memory_order_relaxed);
    return ReplyError(static_cast<http::status>(check.status), check.code, check.detail,
                      keep_alive);
  }

  BookUpdate update;
  update.symbol = symbol;
  update.data = std::move(request.body());
  update.received_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
  // The hub answers: it knows how many subscribers the book went to.
  update.on_routed = [self = shared_from_this(), symbol, keep_alive](std::size_t subscribers) {
    boost::asio::post(self->stream_.get_executor(), [self, symbol, keep_alive, subscribers] {
      self->shard_.stats().rest_accepted.fetch_add(1, std::memory_order_relaxed);
      boost::json::object body{
          {"status", "success"}, {"symbol", symbol}, {"subscribers", subscribers}};
      self->Reply(http::status::ok, boost::json::serialize(body), keep_alive);
    });
  };
  if (!shard_.state().queue.TryPushUpdate(shard_.token(), update)) {
    shard_.stats().rest_rejected.fetch_add(1, std::memory_order_relaxed);
    response_.set(http::field::retry_after, "1");
    return ReplyError(http::status::service_unavailable, "queue_full",
                      "the gateway is overloaded; retry later", keep_alive);
  }
}

void HttpSession::ReplyError(http::status status, std::string_view code, std::string_view detail,
                             bool keep_alive) {
  boost::json::object body{{"detail", detail}, {"code", code}};
  Reply(status, boost::json::serialize(body), keep_alive);
}

void HttpSession::Reply(http::status status, std::string body, bool keep_alive,
                        std::string_view content_type) {
  response_.result(status);
  response_.version(version_);
  response_.set(http::field::server, "orderbook-gateway");
  response_.set(http::field::content_type, content_type);
  response_.keep_alive(keep_alive);
  // A reply to HEAD has the headers of the full reply and no body.
  std::size_t size = body.size();
  response_.body() = head_ ? std::string() : std::move(body);
  response_.prepare_payload();
  if (head_) response_.content_length(size);
  http::async_write(
      stream_, response_,
      beast::bind_front_handler(&HttpSession::OnWrite, shared_from_this(), keep_alive));
}

void HttpSession::OnWrite(bool keep_alive, beast::error_code ec, std::size_t) {
  response_ = {};
  if (ec) return;
  if (!keep_alive) return LingeringClose();
  DoRead();
}

void HttpSession::LingeringClose() {
  // Closing a socket with unread bytes makes the kernel send RST, which can
  // destroy the reply before the client reads it (a 413 sent while the body
  // is still arriving). So: half-close, then discard input until the client
  // closes, for a bounded time.
  beast::error_code ignored;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.expires_after(std::chrono::seconds(2));
  Discard();
}

void HttpSession::Discard() {
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(64 << 10),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            if (!ec) self->Discard();
                          });
}

}  // namespace obgw::gateway
