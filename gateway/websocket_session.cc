#include "gateway/websocket_session.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "gateway/client_message.h"
#include "gateway/shard.h"

namespace obgw::gateway {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

WebSocketSession::WebSocketSession(boost::asio::ip::tcp::socket socket, Shard& shard,
                                   std::string client_id)
    : shard_(shard),
      client_id_(std::move(client_id)),
      ws_(std::move(socket)),
      outbox_(ws_.next_layer().next_layer(), shard.config().session_queue_frames, shard.stats()) {
  ws_.next_layer().set_outbox(&outbox_);
}

WebSocketSession::~WebSocketSession() { Cleanup(); }

void WebSocketSession::Run(Request request) {
  outbox_.SetOwner(weak_from_this());
  const GatewayConfig& config = shard_.config();
  ws_.read_message_max(config.max_frame_bytes);
  ws_.auto_fragment(false);
  websocket::stream_base::timeout timeout =
      websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeout.handshake_timeout = config.handshake_timeout;
  ws_.set_option(timeout);
  ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
    response.set(beast::http::field::server, "orderbook-gateway");
  }));
  // Beast writes the 101 reply through the Outbox; reading starts after it.
  ws_.async_accept(request,
                   beast::bind_front_handler(&WebSocketSession::OnAccept, shared_from_this()));
}

void WebSocketSession::OnAccept(beast::error_code ec) {
  if (ec) return Fail(ec, "accept");
  shard_.Register(this);
  registered_ = true;
  DoRead();
}

void WebSocketSession::DoRead() {
  // One read at a time; replies keep the order of the requests (replies_).
  ws_.async_read(buffer_, beast::bind_front_handler(&WebSocketSession::OnRead, shared_from_this()));
}

void WebSocketSession::OnRead(beast::error_code ec, std::size_t bytes) {
  if (ec == websocket::error::message_too_big) {
    // Beast has already sent close 1009 and is tearing the connection down.
    shard_.stats().ws_closed_too_big.fetch_add(1, std::memory_order_relaxed);
  }
  if (ec) return Fail(ec, "read");
  if (closing_) {
    // Closing: only the peer's close frame matters now.
  } else if (ws_.got_text()) {
    const char* data = static_cast<const char*>(buffer_.cdata().data());
    HandleText(std::string_view(data, buffer_.size()));
  } else {
    SendError("binary_not_supported", "Binary frames are not supported; send JSON text");
  }
  buffer_.consume(buffer_.size());
  // Client messages are rare and small; an idle connection keeps no buffer.
  buffer_.shrink_to_fit();
  if (replies_.size() + outbox_.pending_replies() > kMaxUnsentReplies && !closing_) {
    // A client that sends requests but never reads the answers would make
    // its queue grow without bound.
    closing_ = true;
    ws_.async_close(
        websocket::close_reason(websocket::close_code::policy_error, "too many unread replies"),
        [self = shared_from_this()](beast::error_code) {});
  }
  DoRead();
}

void WebSocketSession::HandleText(std::string_view text) {
  ClientRequest request = ParseClientMessage(text);
  switch (request.action) {
    case ClientRequest::Action::kSubscribe:
      return Subscribe(request.symbol);
    case ClientRequest::Action::kUnsubscribe:
      return Unsubscribe(request.symbol);
    case ClientRequest::Action::kPing:
      return Reply(Frame::Text(R"({"type":"pong"})"));
    case ClientRequest::Action::kInvalid:
      return SendError(request.error_code, request.error_message);
  }
}

void WebSocketSession::Subscribe(const std::string& symbol) {
  auto [it, inserted] = subscriptions_.try_emplace(symbol, Subscription::kPending);
  if (inserted && subscriptions_.size() > shard_.config().max_subscriptions) {
    subscriptions_.erase(it);
    SendError("subscription_limit", "Subscription limit exceeded");
    return;
  }
  // A repeated subscribe changes no count but is still answered in order.
  PushChange(symbol, inserted ? 1 : 0, [](WebSocketSession* self, const std::string& s) {
    return self->OnSubscribeApplied(s);
  });
}

FramePtr WebSocketSession::OnSubscribeApplied(const std::string& symbol) {
  auto it = subscriptions_.find(symbol);
  // Unsubscribed meanwhile: the confirmation still goes out, then the
  // unsubscription's, in the order the client asked.
  if (it != subscriptions_.end() && it->second == Subscription::kPending) {
    it->second = Subscription::kLive;
    shard_.AddSubscriber(symbol, this);
  }
  return RenderReply("subscription_confirmed", symbol);
}

void WebSocketSession::Unsubscribe(const std::string& symbol) {
  auto it = subscriptions_.find(symbol);
  int delta = 0;
  if (it != subscriptions_.end()) {
    // Delivery stops now; the hub's count follows.
    if (it->second == Subscription::kLive) shard_.RemoveSubscriber(symbol, this);
    subscriptions_.erase(it);
    delta = -1;
  }
  PushChange(symbol, delta, [](WebSocketSession*, const std::string& s) {
    return RenderReply("unsubscription_confirmed", s);
  });
}

void WebSocketSession::PushChange(const std::string& symbol, int delta, Then then) {
  SubscriptionChange change;
  change.shard = shard_.index();
  change.symbol = symbol;
  change.delta = delta;
  if (then) {
    // The answer's place among this client's replies is taken now, so that
    // replies go out in the order of the requests.
    replies_.push_back(nullptr);
    change.on_applied = [weak = weak_from_this(), &io = shard_.io_context(), symbol, then] {
      // On the hub thread: hop back to the session's shard.
      boost::asio::post(io, [weak, symbol, then] {
        if (auto self = weak.lock(); self && self->registered_) {
          self->FillReplySlot(then(self.get(), symbol));
        }
      });
    };
  }
  shard_.state().queue.PushControl(shard_.token(), std::move(change));
}

FramePtr WebSocketSession::RenderReply(std::string_view type, std::string_view symbol) {
  boost::json::object reply{{"type", type}, {"symbol", symbol}};
  return Frame::Text(boost::json::serialize(reply));
}

void WebSocketSession::SendError(std::string_view code, std::string_view message) {
  shard_.stats().ws_errors.fetch_add(1, std::memory_order_relaxed);
  boost::json::object reply{{"type", "error"}, {"code", code}, {"message", message}};
  Reply(Frame::Text(boost::json::serialize(reply)));
}

void WebSocketSession::Reply(FramePtr frame) {
  if (!replies_.empty()) {
    replies_.push_back(std::move(frame));  // Behind an answer the hub owes.
    return;
  }
  outbox_.Push(std::move(frame));
  Flush();
}

void WebSocketSession::FillReplySlot(FramePtr frame) {
  // The hub answers in request order: the first open slot is this one.
  for (FramePtr& slot : replies_) {
    if (!slot) {
      slot = std::move(frame);
      break;
    }
  }
  while (!replies_.empty() && replies_.front()) {
    outbox_.Push(std::move(replies_.front()));
    replies_.pop_front();
  }
  Flush();
}

bool WebSocketSession::Queue(const FramePtr& frame) {
  outbox_.Push(frame);
  return !std::exchange(flush_due_, true);
}

void WebSocketSession::Flush() {
  flush_due_ = false;
  outbox_.Flush();
}

void WebSocketSession::CloseGoingAway() {
  if (!registered_ || closing_) return;
  closing_ = true;
  ws_.async_close(websocket::close_code::going_away,
                  [self = shared_from_this()](beast::error_code) {});
}

void WebSocketSession::Cleanup() {
  if (!registered_) return;
  registered_ = false;
  for (const auto& [symbol, state] : subscriptions_) {
    if (state == Subscription::kLive) shard_.RemoveSubscriber(symbol, this);
    PushChange(symbol, -1, nullptr);
  }
  subscriptions_.clear();
  shard_.Unregister(this);
}

void WebSocketSession::Fail(beast::error_code ec, const char* what) {
  // Ordinary ends of a connection are not worth a log line.
  if (ec != websocket::error::closed && ec != boost::asio::error::eof &&
      ec != boost::asio::error::operation_aborted && ec != boost::asio::error::connection_reset &&
      ec != beast::error::timeout) {
    spdlog::debug("ws {}: {}: {}", client_id_, what, ec.message());
  }
  Cleanup();
}

}  // namespace obgw::gateway
