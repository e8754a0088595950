#ifndef OBGW_GATEWAY_WS_WEBSOCKET_SESSION_H_
#define OBGW_GATEWAY_WS_WEBSOCKET_SESSION_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/value.hpp>

#include "gateway/cluster/session_store.h"
#include "gateway/fanout/clock.h"
#include "gateway/fanout/frame.h"
#include "gateway/server/shard_session.h"
#include "gateway/tls/tls_stream.h"
#include "gateway/ws/client_frame_reader.h"
#include "gateway/ws/heartbeat.h"
#include "gateway/ws/outbox.h"
#include "gateway/ws/outbox_stream.h"
#include "gateway/ws/reply_sequencer.h"
#include "gateway/ws/session_auth.h"
#include "gateway/ws/symbol_throttle.h"
#include "gateway/ws/throttle_timer.h"
#include "gateway/ws/token_bucket.h"

namespace obgw::gateway {

class Shard;

// One client on WS /ws/{client_id}: the protocol coordinator. Runs on its
// shard's thread, for life; every method asserts so in debug builds.
//
// Owns the socket (`Stream`: the TCP socket, or a TlsStream, the second
// instantiation in websocket_session.cc; a TLS connection reads with
// async_read_some into a buffer of its own, since its socket's readability
// says nothing of decrypted data, and ends with close_notify); Beast's
// websocket stream over it
// for the opening handshake only (dropped once the 101 is out: it keeps
// ~2.5 KiB per connection, docs/performance.md "Memory per connection"); the
// ClientFrameReader that decodes what the client sends after it (control
// frames answered here); its Outbox (every byte written); the client's
// subscriptions; and the parts that each do one job: the ReplySequencer
// (replies, snapshots and the close in request order), the TokenBucket (rate
// limit), the Heartbeat (pings, idle close) and, when asked for, the
// SymbolThrottle with its ThrottleTimer. Subscribing and unsubscribing go
// through the hub, and the confirmation is sent when the hub has applied the
// change: a confirmed subscription is live, and its first book is the
// snapshot the hub kept.
//
// Admission and session: the node's connection limit is taken in Run; the
// client_id's (the SessionStore's, cluster-wide with Redis) is asked for in
// Run too, so its round trip overlaps the handshake. Client messages are read
// only once both the handshake and the store's answer are in; a restored
// session is then sent (session_restored) and its symbols subscribed before
// any client request. Subscribing and unsubscribing tell the store; Cleanup
// closes the store's count once per admitted Open.
//
// Authentication (GatewayConfig::jwt_verifier set; SessionAuth): a client
// whose upgrade carried no valid ?token= reads as usual but may only send
// {"action":"auth"} until one is accepted (anything else: error
// unauthenticated); its stored session is restored only then, filtered by
// the token's symbols claim, so nothing of the client_id reaches a stranger.
// The deadline of that message and the token's expiry are the sweep's
// (Tick), each a close 1008.
//
// Event log (issue 13, gateway/logging): one ws_opened line once admitted,
// one ws_rejected line per error sent to the client, and one ws_closed line
// when a connection that completed its handshake ends (its code, reason,
// why, duration and messages sent), each rate limited.
template <class Stream>
class WebSocketSession final : public ShardSession,
                               public std::enable_shared_from_this<WebSocketSession<Stream>> {
 public:
  // Replies a client may leave unread before it is closed with 1008.
  static constexpr std::size_t kMaxUnsentReplies = 1024;
  // How long a close may take, from when it is decided (queued behind the
  // replies) to the end of its handshake, before the socket is simply closed.
  static constexpr Clock::duration kCloseTimeout = std::chrono::seconds(2);

  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  // `throttle`: the client's minimum interval per symbol; zero for none.
  // `restore`: whether the client_id's stored session is restored
  // (?restore=1, the default) or cleared (?restore=0).
  // `claims`: the token of the upgrade (?token=), verified for client_id
  // already; none with auth off, or when the client is to send an auth
  // message.
  WebSocketSession(Stream stream, Shard& shard, std::string client_id,
                   std::chrono::milliseconds throttle, bool restore,
                   std::optional<JwtClaims> claims = std::nullopt);
  ~WebSocketSession();

  // Completes the upgrade of `request` and starts reading.
  void Run(Request request);

  // Fan-out (shard thread): queues a book; true when the caller must call
  // Flush() after its batch.
  bool Queue(const FramePtr& frame) override;
  void Flush() override;

  // The shard's periodic sweep: heartbeats, idle and slow-consumer checks,
  // and the deadline of a close.
  void Tick(Clock::time_point now) override;

  // Shutdown: close 1001.
  void CloseGoingAway() override;
  std::shared_ptr<ShardSession> Keep() override { return this->shared_from_this(); }

 private:
  struct Subscription {
    bool live = false;
    // The subscribe that created it: only that request's confirmation makes
    // it live (a subscribe, unsubscribe, subscribe burst must not activate
    // the third with the first's answer, before the hub counted it).
    std::uint64_t change = 0;
  };
  // On the shard once the hub has applied change number `change`: fills the
  // request's reply slot `ticket`.
  using Then = void (*)(WebSocketSession* self, ReplySequencer::Ticket ticket,
                        const std::string& symbol, const boost::json::value& req_id,
                        FramePtr snapshot, std::uint64_t change);

  // --socket_send_buffer_bytes, --socket_notsent_lowat_bytes: little waits
  // in the kernel, where a newer book cannot replace it.
  void BoundKernelSendBuffer();
  void OnAccept(boost::beast::error_code ec);
  // The session store's answer to Open (on this shard).
  void OnOpened(SessionStore::Opened opened);
  // Once the handshake and the store's answer are both in: refuses the
  // connection over a limit, or restores its session, then starts reading.
  void StartWhenReady();
  // Sends session_restored and subscribes `symbols` through the hub, each
  // live with its snapshot and no confirmation; or, with ?restore=0, clears
  // them from the store.
  void RestoreSession(SessionStore::Symbols symbols);
  // Reads what the socket holds now (into the shard's read buffer, consumed
  // before returning), then waits for it to be readable again: a waiting
  // connection holds no buffer. TLS: one async_read_some into the
  // connection's own buffer (OnTlsRead).
  void DoRead();
  void OnReadable(boost::beast::error_code ec);
  void OnTlsRead(boost::beast::error_code ec, std::size_t bytes);
  // Decodes `input`; false once reading must stop (the connection ends).
  bool Consume(std::string_view input);
  // A whole data message (`event` from reader_, its payload in reader_).
  void OnMessage(const ClientFrameReader::Event& event);
  // The peer's close frame: answered (unless ours is out), then the socket
  // is closed.
  void OnPeerClose(std::uint16_t code);
  // A protocol violation (or an undecodable message): close frame `code`
  // at once, ahead of any reply, then the socket is closed.
  void HangUp(std::uint16_t code, std::string_view reason);
  // Queues a close frame (once); with `then_close`, the socket is closed
  // once it is written.
  void SendCloseFrame(std::uint16_t code, std::string_view reason, bool then_close);
  void HandleText(std::string_view text);
  // {"action":"auth"}: verifies the token (first auth or refresh); a refused
  // one is answered, then the connection closed with 1008.
  void Authenticate(const std::string& token, const boost::json::value& req_id);
  void Subscribe(const std::vector<std::string>& requested, const boost::json::value& req_id);
  void Unsubscribe(const std::vector<std::string>& symbols, const boost::json::value& req_id);
  void ListSubscriptions(const boost::json::value& req_id);
  void OnSubscribeApplied(ReplySequencer::Ticket ticket, const std::string& symbol,
                          const boost::json::value& req_id, FramePtr snapshot,
                          std::uint64_t change);
  void OnRestoreApplied(ReplySequencer::Ticket ticket, const std::string& symbol, FramePtr snapshot,
                        std::uint64_t change);
  // The hub applied change `change` of `symbol`: when it is the one that
  // created the subscription (still held), the subscription goes live and
  // true is returned (its snapshot, if any, is owed to the client).
  bool GoLive(const std::string& symbol, std::uint64_t change, const FramePtr& snapshot);
  SessionStore& sessions() const;
  FramePtr RenderReply(std::string_view type, std::string_view symbol,
                       const boost::json::value& req_id) const;
  // `symbol`, when not empty, is named in the error (forbidden).
  void SendError(std::string_view code, std::string_view message,
                 const boost::json::value& req_id = nullptr, std::string_view symbol = {});
  // A reply ready now, in its request's place.
  void Reply(FramePtr frame);
  // Sends what the ReplySequencer releases (and starts the close when its
  // turn comes).
  void SendDueReplies();
  // Posts a subscription change to the hub; with `then`, the request's reply
  // slot is taken now and `then` fills it on this shard after the hub applied
  // the change (if the session is still alive). Returns the change's number.
  std::uint64_t PushChange(const std::string& symbol, int delta, const boost::json::value& req_id,
                           Then then);
  // Books held back by the throttle whose time has come.
  void OnThrottleTimer();
  // Decides the close (once): it is queued behind every reply queued so
  // far; Tick closes the socket if it takes too long. `why` (a literal)
  // names the cause in the ws_closed log line: "idle", "slow_consumer"...
  void Close(boost::beast::websocket::close_code code, std::string_view reason,
             std::string_view why);
  // The first end decided (ours, the peer's close or a lost connection) is
  // the one ws_closed reports.
  void NoteEnd(std::uint16_t code, std::string_view reason, std::string_view why);
  // The ws_closed line.
  void LogClosed();
  // The close's turn has come: sends the close frame; the socket is closed
  // when the peer's close arrives (or at kCloseTimeout, Tick).
  void StartCloseHandshake();
  void CloseSocket();
  void Cleanup();
  void Fail(boost::beast::error_code ec, const char* what);

  Shard& shard_;
  const std::string client_id_;
  Stream socket_;
  // The opening handshake; null once it is done.
  std::unique_ptr<boost::beast::websocket::stream<OutboxStream<Stream>>> handshake_;
  Outbox<Stream> outbox_;
  ClientFrameReader reader_;
  absl::flat_hash_map<std::string, Subscription> subscriptions_;
  ReplySequencer replies_;
  std::uint64_t changes_pushed_ = 0;
  TokenBucket rate_limit_;
  // Who the client is (auth on), on the shard's clock.
  SessionAuth auth_;
  // On the shard's coarse clock (the sweep time).
  Heartbeat heartbeat_;
  // Throttle (?throttle_ms), only when asked for.
  std::unique_ptr<SymbolThrottle> throttle_;
  ThrottleTimer throttle_timer_;
  bool flush_due_ = false;
  bool registered_ = false;
  const bool restore_;
  // For the event log: the peer, when the handshake completed, and the end
  // (NoteEnd): code, reason (copied: the peer's may be anything) and why.
  boost::asio::ip::tcp::endpoint peer_;
  Clock::time_point opened_at_;
  std::string end_reason_;
  std::string_view end_why_;
  std::uint16_t end_code_ = 1006;
  // Admission: the node's limit (counted by ConnectionLimits, released in
  // Cleanup), then the client_id's (counted by the SessionStore: Close owed).
  bool node_admitted_ = false;
  bool store_admitted_ = false;
  bool accepted_ = false;                  // The handshake completed.
  bool store_answered_ = false;            // OnOpened ran (or no Open was needed).
  bool cleaned_up_ = false;                // A late store answer must Close at once.
  bool close_sent_ = false;                // Our close frame is queued: no more frames.
  bool reading_stopped_ = false;           // The peer's close, or a violation: no more reads.
  SessionStore::Symbols restore_symbols_;  // From OnOpened to StartWhenReady or auth.
  // The close decided by Close() (replies_.close_queued()), sent when the
  // ReplySequencer releases it; the reason is always a string literal. A
  // HangUp queues a close too, so that Tick bounds it the same way.
  Clock::time_point closing_since_;
  boost::beast::websocket::close_code close_code_ = boost::beast::websocket::close_code::normal;
  std::string_view close_text_;
  // What only a TLS connection needs (nothing for the plain one): its read
  // buffer (allocated at the first read) and whether its close_notify is out.
  struct TlsState {
    static constexpr std::size_t kReadBufferBytes = 4 << 10;
    std::unique_ptr<char[]> read_buffer;
    bool shutting_down = false;
  };
  struct NoTlsState {};
  [[no_unique_address]] std::conditional_t<kIsTlsStream<Stream>, TlsState, NoTlsState> tls_;
};

using PlainWebSocketSession = WebSocketSession<boost::asio::ip::tcp::socket>;
using TlsWebSocketSession = WebSocketSession<TlsStream>;

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_WS_WEBSOCKET_SESSION_H_
