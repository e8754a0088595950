#ifndef OBGW_GATEWAY_WEBSOCKET_SESSION_H_
#define OBGW_GATEWAY_WEBSOCKET_SESSION_H_

#include <memory>
#include <string>
#include <string_view>

#include <absl/container/flat_hash_map.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/container/devector.hpp>

#include "gateway/frame.h"
#include "gateway/outbox.h"
#include "gateway/outbox_stream.h"

namespace obgw::gateway {

class Shard;

// One client on WS /ws/{client_id}. Runs on its shard's thread, for life.
//
// Owns the Beast websocket stream (handshake, reads, control frames), its
// Outbox (every byte written), and the client's subscriptions. Subscribing
// and unsubscribing go through the hub, and the confirmation is sent when the
// hub has applied the change: a confirmed subscription is live.
class WebSocketSession : public std::enable_shared_from_this<WebSocketSession> {
 public:
  // Replies a client may leave unread before it is closed with 1008.
  static constexpr std::size_t kMaxUnsentReplies = 1024;

  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  WebSocketSession(boost::asio::ip::tcp::socket socket, Shard& shard, std::string client_id);
  ~WebSocketSession();

  // Completes the upgrade of `request` and starts reading.
  void Run(Request request);

  // Fan-out (shard thread): queues a book; true when the caller must call
  // Flush() after its batch.
  bool Queue(const FramePtr& frame);
  void Flush();

  // Shutdown: close 1001.
  void CloseGoingAway();

 private:
  enum class Subscription { kPending, kLive };
  // On the shard once the hub has applied a change: the reply to send.
  using Then = FramePtr (*)(WebSocketSession* self, const std::string& symbol);

  void OnAccept(boost::beast::error_code ec);
  void DoRead();
  void OnRead(boost::beast::error_code ec, std::size_t bytes);
  void HandleText(std::string_view text);
  void Subscribe(const std::string& symbol);
  void Unsubscribe(const std::string& symbol);
  FramePtr OnSubscribeApplied(const std::string& symbol);
  static FramePtr RenderReply(std::string_view type, std::string_view symbol);
  void SendError(std::string_view code, std::string_view message);
  // Sends a reply now, or queues it behind replies the hub still owes.
  void Reply(FramePtr frame);
  // The hub's answer for the oldest open slot; sends every reply now ready.
  void FillReplySlot(FramePtr frame);
  // Posts a subscription change to the hub; `then` runs on this shard after
  // the hub applied it (if the session is still alive).
  void PushChange(const std::string& symbol, int delta, Then then);
  void Cleanup();
  void Fail(boost::beast::error_code ec, const char* what);

  Shard& shard_;
  const std::string client_id_;
  boost::beast::websocket::stream<OutboxStream> ws_;
  Outbox outbox_;
  boost::beast::flat_buffer buffer_;
  absl::flat_hash_map<std::string, Subscription> subscriptions_;
  // Replies in request order; null = the hub's answer is still due.
  boost::container::devector<FramePtr> replies_;
  bool flush_due_ = false;
  bool registered_ = false;
  bool closing_ = false;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_WEBSOCKET_SESSION_H_
