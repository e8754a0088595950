#ifndef OBGW_GATEWAY_WS_WEBSOCKET_SESSION_H_
#define OBGW_GATEWAY_WS_WEBSOCKET_SESSION_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/container/devector.hpp>
#include <boost/json/value.hpp>

#include "gateway/server/connection_limits.h"
#include "gateway/server/shard_session.h"
#include "gateway/fanout/frame.h"
#include "gateway/ws/outbox.h"
#include "gateway/ws/outbox_stream.h"
#include "gateway/ws/symbol_throttle.h"

namespace obgw::gateway {

class Shard;

// One client on WS /ws/{client_id}. Runs on its shard's thread, for life.
//
// Owns the Beast websocket stream (handshake, reads, control frames), its
// Outbox (every byte written), the client's subscriptions, and its policing:
// rate limit, heartbeats, slow-consumer checks (Tick, from the shard's sweep)
// and the optional per-symbol throttle. Subscribing and unsubscribing go
// through the hub, and the confirmation is sent when the hub has applied the
// change: a confirmed subscription is live, and its first book is the
// snapshot the hub kept.
class WebSocketSession final : public ShardSession,
                               public std::enable_shared_from_this<WebSocketSession> {
 public:
  using Clock = std::chrono::steady_clock;
  // Replies a client may leave unread before it is closed with 1008.
  static constexpr std::size_t kMaxUnsentReplies = 1024;
  // How long a close handshake may take before the socket is simply closed.
  static constexpr Clock::duration kCloseTimeout = std::chrono::seconds(2);

  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  // `throttle`: the client's minimum interval per symbol; zero for none.
  WebSocketSession(boost::asio::ip::tcp::socket socket, Shard& shard, std::string client_id,
                   std::chrono::milliseconds throttle);
  ~WebSocketSession();

  // Completes the upgrade of `request` and starts reading.
  void Run(Request request);

  // Fan-out (shard thread): queues a book; true when the caller must call
  // Flush() after its batch.
  bool Queue(const FramePtr& frame) override;
  void Flush() override;

  // The shard's periodic sweep: heartbeats, idle and slow-consumer checks,
  // and the deadline of a close handshake.
  void Tick(Clock::time_point now) override;

  // Shutdown: close 1001.
  void CloseGoingAway() override;
  std::shared_ptr<ShardSession> Keep() override { return shared_from_this(); }

 private:
  struct Subscription {
    bool live = false;
    // The subscribe that created it: only that request's confirmation makes
    // it live (a subscribe, unsubscribe, subscribe burst must not activate
    // the third with the first's answer, before the hub counted it).
    std::uint64_t change = 0;
  };
  // On the shard once the hub has applied change number `change`: the reply
  // to send.
  using Then = FramePtr (*)(WebSocketSession* self, const std::string& symbol,
                            const boost::json::value& req_id, FramePtr snapshot,
                            std::uint64_t change);

  void OnAccept(boost::beast::error_code ec);
  void DoRead();
  void OnRead(boost::beast::error_code ec, std::size_t bytes);
  // The token bucket: false when the message must be refused.
  bool TakeToken(Clock::time_point now);
  void HandleText(std::string_view text);
  void Subscribe(const std::vector<std::string>& symbols, const boost::json::value& req_id);
  void Unsubscribe(const std::vector<std::string>& symbols, const boost::json::value& req_id);
  void ListSubscriptions(const boost::json::value& req_id);
  FramePtr OnSubscribeApplied(const std::string& symbol, const boost::json::value& req_id,
                              FramePtr snapshot, std::uint64_t change);
  FramePtr RenderReply(std::string_view type, std::string_view symbol,
                       const boost::json::value& req_id) const;
  void SendError(std::string_view code, std::string_view message,
                 const boost::json::value& req_id = nullptr);
  // Sends a reply now, or queues it behind replies the hub still owes.
  void Reply(FramePtr frame);
  // The hub's answer for the oldest open slot; sends every reply now ready.
  void FillReplySlot(FramePtr frame);
  // Posts a subscription change to the hub; `then` runs on this shard after
  // the hub applied it (if the session is still alive). Returns the change's
  // number.
  std::uint64_t PushChange(const std::string& symbol, int delta, const boost::json::value& req_id,
                           Then then);
  // Books held back by the throttle whose time has come.
  void OnThrottleTimer();
  void ArmThrottleTimer(Clock::time_point due);
  // Starts the close handshake (once); Tick closes the socket if it stalls.
  void Close(boost::beast::websocket::close_code code, std::string_view reason);
  void CloseSocket();
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
  std::uint64_t changes_pushed_ = 0;
  // Heartbeats (shard's coarse clock).
  Clock::time_point last_heard_;
  Clock::time_point last_ping_;
  Clock::time_point closing_since_;
  // Rate limit.
  double tokens_;
  Clock::time_point tokens_at_;
  std::size_t refused_in_row_ = 0;
  // Throttle (?throttle_ms), only when asked for.
  std::unique_ptr<SymbolThrottle> throttle_;
  std::unique_ptr<boost::asio::steady_timer> throttle_timer_;
  Clock::time_point throttle_due_ = Clock::time_point::max();
  bool flush_due_ = false;
  bool registered_ = false;
  ConnectionLimits::Verdict verdict_ = ConnectionLimits::Verdict::kAdmitted;
  bool admitted_ = false;  // Counted by the connection limits.
  bool closing_ = false;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_WS_WEBSOCKET_SESSION_H_
