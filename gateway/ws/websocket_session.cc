#include "gateway/ws/websocket_session.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <cassert>

#include <absl/strings/str_cat.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "gateway/fanout/message_inflater.h"
#include "gateway/logging/event_log.h"
#include "gateway/server/shard.h"
#include "gateway/ws/client_message.h"
#include "gateway/ws/utf8.h"

namespace obgw::gateway {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

template <class Stream>
WebSocketSession<Stream>::WebSocketSession(Stream stream, Shard& shard, std::string client_id,
                                           std::chrono::milliseconds throttle, bool restore,
                                           std::optional<JwtClaims> claims)
    : shard_(shard),
      client_id_(std::move(client_id)),
      socket_(std::move(stream)),
      handshake_(
          std::make_unique<websocket::stream<OutboxStream<Stream>>>(OutboxStream<Stream>(socket_))),
      outbox_(socket_, shard.config().session_queue_frames, shard.config().slow_consumer_bytes,
              shard.stats(), shard.clock(), shard.affinity(), shard.config().session_queue_max_age),
      reader_(shard.config().max_frame_bytes),
      rate_limit_(shard.config().max_message_burst, shard.config().max_messages_per_second,
                  shard.clock().Now()),
      auth_(shard.config().jwt_verifier.get(), client_id_),
      heartbeat_(shard.config().ping_interval, shard.config().idle_timeout, shard.now()),
      throttle_timer_(socket_.get_executor(), shard.clock(), shard.affinity()),
      restore_(restore) {
  handshake_->next_layer().set_outbox(&outbox_);
  if constexpr (!kIsTlsStream<Stream>) {
    // DoRead reads what is there without blocking, then waits.
    beast::error_code ignored;
    socket_.non_blocking(true, ignored);
  }
  BoundKernelSendBuffer();
  beast::error_code ignored;
  peer_ = TcpSocketOf(socket_).remote_endpoint(ignored);
  if (throttle.count() > 0) throttle_ = std::make_unique<SymbolThrottle>(throttle);
  if (claims && auth_.required()) {
    auth_.Accept(*std::move(claims), shard.clock().Now(), std::chrono::system_clock::now());
  }
}

template <class Stream>
void WebSocketSession<Stream>::BoundKernelSendBuffer() {
  const GatewayConfig& config = shard_.config();
  auto& socket = TcpSocketOf(socket_);
  beast::error_code ec;
  if (config.socket_send_buffer_bytes > 0) {
    // Fixes the buffer (no autotuning); Linux doubles the value for its
    // bookkeeping.
    socket.set_option(boost::asio::socket_base::send_buffer_size(
                          static_cast<int>(config.socket_send_buffer_bytes)),
                      ec);
    if (ec) spdlog::debug("ws {}: SO_SNDBUF: {}", client_id_, ec.message());
  }
  if (config.socket_notsent_lowat_bytes > 0) {
    using NotSentLowat =
        boost::asio::detail::socket_option::integer<IPPROTO_TCP, TCP_NOTSENT_LOWAT>;
    socket.set_option(NotSentLowat(static_cast<int>(config.socket_notsent_lowat_bytes)), ec);
    if (ec) spdlog::debug("ws {}: TCP_NOTSENT_LOWAT: {}", client_id_, ec.message());
  }
}

template <class Stream>
WebSocketSession<Stream>::~WebSocketSession() {
  Cleanup();
}

template <class Stream>
void WebSocketSession<Stream>::Run(Request request) {
  assert(shard_.InThisThread());
  outbox_.SetOwner(this->weak_from_this());
  const GatewayConfig& config = shard_.config();
  websocket::stream<OutboxStream<Stream>>& ws = *handshake_;
  // Beast bounds the opening handshake; the closing one, heartbeats and idle
  // peers are the shard's sweep (Tick), which also sees stalled writes.
  websocket::stream_base::timeout timeout =
      websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeout.handshake_timeout = config.handshake_timeout;
  // Beast's own keep-alive (a ping after 150 s, a silent drop after 300 s)
  // would undercut --idle_timeout_ms: heartbeats are Tick's alone.
  timeout.idle_timeout = websocket::stream_base::none();
  timeout.keep_alive_pings = false;
  ws.set_option(timeout);
  if (shard_.deflater() != nullptr) {
    // Offered to clients that ask. server_no_context_takeover makes every
    // message independent, so a frame is compressed once for all clients;
    // client_no_context_takeover does the same for client messages, so the
    // shard's one MessageInflater decodes every connection's.
    websocket::permessage_deflate deflate;
    deflate.server_enable = true;
    deflate.server_no_context_takeover = true;
    deflate.client_no_context_takeover = true;
    deflate.server_max_window_bits = 15;
    deflate.client_max_window_bits = config.deflate_client_window_bits;
    ws.set_option(deflate);
  }
  ws.set_option(websocket::stream_base::decorator([this](websocket::response_type& response) {
    response.set(beast::http::field::server, "orderbook-gateway");
    // Beast has written its negotiation into the reply. A client that
    // asked for a smaller server window than the shared frames use gets
    // them uncompressed (always allowed by RFC 7692).
    std::string_view extensions = response[beast::http::field::sec_websocket_extensions];
    if (extensions.starts_with("permessage-deflate")) reader_.AllowCompression();
    if (extensions.starts_with("permessage-deflate") &&
        extensions.find("server_max_window_bits") == std::string_view::npos) {
      outbox_.UseDeflater(shard_.deflater());
    }
  }));
  // Counted before the 101 goes out, so connections are admitted in the
  // order their handshakes start; a refused one is closed once open.
  node_admitted_ = shard_.state().connection_limits.Admit();
  if (node_admitted_) {
    // Asked now so that the store's round trip (Redis) overlaps the
    // handshake. The answer keeps the session alive: an admitted Open is
    // always matched by a Close.
    sessions().Open(client_id_, socket_.get_executor(),
                    [self = this->shared_from_this()](SessionStore::Opened opened) {
                      self->OnOpened(std::move(opened));
                    });
  } else {
    store_answered_ = true;  // Refused by the node: the store is not asked.
  }
  // Beast writes the 101 reply through the Outbox; reading starts after it.
  ws.async_accept(request,
                  beast::bind_front_handler(&WebSocketSession::OnAccept, this->shared_from_this()));
}

template <class Stream>
void WebSocketSession<Stream>::OnAccept(beast::error_code ec) {
  assert(shard_.InThisThread());
  if (ec) return Fail(ec, "accept");
  // Beast's part is over: its stream goes (after this handler, which runs
  // inside its operation), the socket stays ours.
  boost::asio::post(socket_.get_executor(),
                    [self = this->shared_from_this()] { self->handshake_.reset(); });
  shard_.Register(this);
  registered_ = true;
  accepted_ = true;
  opened_at_ = shard_.clock().Now();
  heartbeat_.Heard(shard_.now());
  StartWhenReady();
}

template <class Stream>
void WebSocketSession<Stream>::OnOpened(SessionStore::Opened opened) {
  assert(shard_.InThisThread());
  if (cleaned_up_) {
    // The connection ended before the answer: nothing will Close it later.
    if (opened.admitted) sessions().Close(client_id_);
    return;
  }
  store_admitted_ = opened.admitted;
  store_answered_ = true;
  restore_symbols_ = std::move(opened.restore);
  StartWhenReady();
}

template <class Stream>
void WebSocketSession<Stream>::StartWhenReady() {
  assert(shard_.InThisThread());
  if (!accepted_ || !store_answered_) return;
  if (!node_admitted_) {
    shard_.stats().ws_closed_limit.fetch_add(1, std::memory_order_relaxed);
    Close(websocket::close_code::try_again_later, "Server connection limit reached",
          "node_connection_limit");
  } else if (!store_admitted_) {
    shard_.stats().ws_closed_limit.fetch_add(1, std::memory_order_relaxed);
    Close(websocket::close_code::policy_error, "Connection limit exceeded",
          "client_connection_limit");
  } else if (!replies_.close_queued()) {  // Not shut down while waiting.
    LogEvent(LogKind::ws_connection, spdlog::level::info, "ws_opened", [this](LogFields& line) {
      line.Add("client_id", client_id_)
          .AddPeer("peer", peer_.address().to_string(), peer_.port())
          .Add("shard", shard_.index())
          .Add("tls", kIsTlsStream<Stream>)
          .Add("auth", !auth_.required()       ? "off"
                       : auth_.authenticated() ? "token"
                                               : "pending");
    });
    if (auth_.authenticated()) {
      RestoreSession(std::exchange(restore_symbols_, {}));
    } else {
      // The session waits for the auth message (Authenticate).
      auth_.Arm(shard_.clock().Now() + shard_.config().auth_timeout);
    }
  }
  // Refused (or shut down meanwhile): no reply is owed, so the close frame
  // is out; reading goes on only for the peer's close (messages are
  // ignored, OnMessage), after which the socket is closed.
  DoRead();
}

template <class Stream>
void WebSocketSession<Stream>::RestoreSession(SessionStore::Symbols symbols) {
  assert(shard_.InThisThread());
  if (symbols.empty()) return;
  if (!restore_) {
    // ?restore=0 on the id's only connection here: the session starts
    // afresh, as what this connection subscribes.
    for (const std::string& symbol : symbols) sessions().RemoveSymbol(client_id_, symbol);
    return;
  }
  // Only what the token allows; the rest stays in the store, untouched, for
  // a connection whose token allows it.
  std::erase_if(symbols, [this](const std::string& symbol) { return !auth_.Allows(symbol); });
  if (symbols.empty()) return;
  // Capped like subscribes; what does not fit leaves the session, so that
  // the session stays what the client's connections follow.
  const std::size_t cap = shard_.config().max_subscriptions;
  for (std::size_t i = cap; i < symbols.size(); ++i) {
    sessions().RemoveSymbol(client_id_, symbols[i]);
  }
  if (symbols.size() > cap) symbols.resize(cap);
  if (symbols.empty()) return;
  shard_.stats().sessions_restored.fetch_add(1, std::memory_order_relaxed);
  shard_.stats().symbols_restored.fetch_add(symbols.size(), std::memory_order_relaxed);
  boost::json::object reply{{"type", "session_restored"},
                            {"symbols", boost::json::array(symbols.begin(), symbols.end())}};
  Reply(Frame::Text(boost::json::serialize(reply)));
  // Each one as a subscribe with no confirmation: its slot carries its
  // snapshot alone, so snapshots follow session_restored in its order, and a
  // client's repeated subscribe (the guide's onopen) finds it held.
  for (const std::string& symbol : symbols) {
    [[maybe_unused]] auto [it, inserted] = subscriptions_.try_emplace(symbol);
    assert(inserted);  // A fresh connection, and the store's symbols are distinct.
    it->second.change =
        PushChange(symbol, 1, nullptr,
                   [](WebSocketSession* self, ReplySequencer::Ticket ticket, const std::string& s,
                      const boost::json::value&, FramePtr snapshot, std::uint64_t applied) {
                     self->OnRestoreApplied(ticket, s, std::move(snapshot), applied);
                   });
  }
}

template <class Stream>
void WebSocketSession<Stream>::DoRead() {
  assert(shard_.InThisThread());
  if (reading_stopped_) return;
  if constexpr (kIsTlsStream<Stream>) {
    // OpenSSL may have a whole record decrypted while the socket has nothing
    // to read: the TLS stream decides when there is data.
    if (!tls_.read_buffer) tls_.read_buffer = std::make_unique<char[]>(TlsState::kReadBufferBytes);
    socket_.async_read_some(
        boost::asio::buffer(tls_.read_buffer.get(), TlsState::kReadBufferBytes),
        beast::bind_front_handler(&WebSocketSession::OnTlsRead, this->shared_from_this()));
  } else {
    // One message at a time: requests are taken in order, and so are their
    // reply slots (replies_). A few reads per turn, then the other sessions.
    std::span<char> buffer = shard_.read_buffer();
    for (int reads = 0; reads < 4; ++reads) {
      beast::error_code ec;
      std::size_t bytes = socket_.read_some(boost::asio::buffer(buffer.data(), buffer.size()), ec);
      if (ec == boost::asio::error::would_block) {
        // Drained: the reactor is edge-triggered, so the wait starts only now.
        socket_.async_wait(
            Stream::wait_read,
            beast::bind_front_handler(&WebSocketSession::OnReadable, this->shared_from_this()));
        return;
      }
      if (ec) return Fail(ec, "read");
      if (!Consume(std::string_view(buffer.data(), bytes))) return;
    }
    boost::asio::post(socket_.get_executor(), [self = this->shared_from_this()] {
      if (self->registered_) self->DoRead();
    });
  }
}

template <class Stream>
void WebSocketSession<Stream>::OnReadable(beast::error_code ec) {
  assert(shard_.InThisThread());
  if (ec) return Fail(ec, "read");
  DoRead();
}

template <class Stream>
void WebSocketSession<Stream>::OnTlsRead(beast::error_code ec, std::size_t bytes) {
  assert(shard_.InThisThread());
  if (ec) return Fail(ec, "read");
  if constexpr (kIsTlsStream<Stream>) {
    if (!Consume(std::string_view(tls_.read_buffer.get(), bytes))) return;
  }
  DoRead();
}

template <class Stream>
bool WebSocketSession<Stream>::Consume(std::string_view input) {
  assert(shard_.InThisThread());
  for (;;) {
    ClientFrameReader::Event event = reader_.Next(input);
    if (event.kind == ClientFrameReader::Kind::kNeedMore) return true;
    // Any frame, control frames included, proves the peer alive.
    if (event.kind != ClientFrameReader::Kind::kError) heartbeat_.Heard(shard_.now());
    switch (event.kind) {
      case ClientFrameReader::Kind::kNeedMore:
      case ClientFrameReader::Kind::kPong:
        break;
      case ClientFrameReader::Kind::kText:
      case ClientFrameReader::Kind::kBinary:
        OnMessage(event);
        break;
      case ClientFrameReader::Kind::kPing: {
        if (close_sent_) break;  // RFC 6455 5.5.2: no frame follows a close.
        std::string_view data = reader_.payload();
        outbox_.PushRaw(std::string(*Frame::EncodeHeader(0x8A, data)),
                        [](beast::error_code, std::size_t) {});
        break;
      }
      case ClientFrameReader::Kind::kClose:
        OnPeerClose(event.code);
        return false;
      case ClientFrameReader::Kind::kError:
        HangUp(event.code, event.reason);
        return false;
    }
    if (reading_stopped_) return false;
  }
}

template <class Stream>
void WebSocketSession<Stream>::OnMessage(const ClientFrameReader::Event& event) {
  assert(shard_.InThisThread());
  std::string_view text = reader_.payload();
  std::string inflated;
  if (event.compressed) {
    MessageInflater* inflater = shard_.inflater();
    MessageInflater::Result result =
        inflater ? inflater->Inflate(text, shard_.config().max_frame_bytes, inflated)
                 : MessageInflater::Result::kCorrupt;
    if (result == MessageInflater::Result::kTooBig) {
      return HangUp(ClientFrameReader::kTooBig, "message too big");
    }
    if (result != MessageInflater::Result::kOk) {
      return HangUp(ClientFrameReader::kProtocolError, "bad compressed message");
    }
    text = inflated;
  }
  if (event.kind == ClientFrameReader::Kind::kText && !IsValidUtf8(text)) {
    return HangUp(static_cast<std::uint16_t>(websocket::close_code::bad_payload),
                  "text message not UTF-8");
  }
  if (replies_.close_queued()) return;  // Closing: only the peer's close frame matters now.
  // Refused before parsing: a flood costs as little as possible.
  switch (rate_limit_.Take(shard_.clock().Now())) {
    case TokenBucket::Verdict::kAccepted:
      if (event.kind == ClientFrameReader::Kind::kText) {
        HandleText(text);
      } else {
        SendError("binary_not_supported", "Binary frames are not supported; send JSON text");
      }
      break;
    case TokenBucket::Verdict::kRefused:
      shard_.stats().ws_rate_limited.fetch_add(1, std::memory_order_relaxed);
      SendError("rate_limited",
                absl::StrCat("Too many messages: at most ", shard_.config().max_messages_per_second,
                             " per second; this one was ignored"));
      break;
    case TokenBucket::Verdict::kHangUp:
      shard_.stats().ws_rate_limited.fetch_add(1, std::memory_order_relaxed);
      shard_.stats().ws_closed_rate.fetch_add(1, std::memory_order_relaxed);
      Close(websocket::close_code::policy_error, "rate limit exceeded", "rate_limit");
      break;
  }
  if (replies_.waiting() + outbox_.pending_replies() > kMaxUnsentReplies) {
    // A client that sends requests but never reads the answers would make
    // its queue grow without bound.
    if (!replies_.close_queued())
      shard_.stats().ws_closed_unread.fetch_add(1, std::memory_order_relaxed);
    Close(websocket::close_code::policy_error, "too many unread replies", "unread_replies");
  }
}

template <class Stream>
void WebSocketSession<Stream>::OnPeerClose(std::uint16_t code) {
  assert(shard_.InThisThread());
  reading_stopped_ = true;
  // The peer's reason is the close frame's payload (UTF-8, at most 123 bytes).
  NoteEnd(code, reader_.payload(), "client_close");
  if (close_sent_) {
    // The answer to ours: the handshake is complete and the server closes
    // the TCP connection first (RFC 6455 7.1.1).
    return CloseSocket();
  }
  // Echoed, as Beast did; the socket closes once the echo is written (or at
  // the close timeout, Tick).
  if (!replies_.close_queued()) closing_since_ = shard_.now();
  replies_.QueueClose();
  SendCloseFrame(code, {}, /*then_close=*/true);
}

template <class Stream>
void WebSocketSession<Stream>::HangUp(std::uint16_t code, std::string_view reason) {
  assert(shard_.InThisThread());
  spdlog::debug("ws {}: closing {}: {}", client_id_, code, reason);
  NoteEnd(code, reason, code == ClientFrameReader::kTooBig ? "message_too_big" : "protocol_error");
  if (code == ClientFrameReader::kTooBig) {
    shard_.stats().ws_closed_too_big.fetch_add(1, std::memory_order_relaxed);
  }
  reading_stopped_ = true;
  if (!replies_.close_queued()) closing_since_ = shard_.now();
  replies_.QueueClose();
  // Queued books would only delay the close frame.
  outbox_.DiscardBooks();
  if (close_sent_) return CloseSocket();
  SendCloseFrame(code, reason, /*then_close=*/true);
}

template <class Stream>
void WebSocketSession<Stream>::SendCloseFrame(std::uint16_t code, std::string_view reason,
                                              bool then_close) {
  assert(shard_.InThisThread());
  if (close_sent_) return;
  close_sent_ = true;
  std::string payload;
  if (code != ClientFrameReader::kNoStatus) {
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xFF));
    payload.append(reason.substr(0, 123));  // A control frame carries 125 bytes.
  }
  typename Outbox<Stream>::WriteDone done = [](beast::error_code, std::size_t) {};
  if (then_close) {
    done = [weak = this->weak_from_this()](beast::error_code, std::size_t) {
      if (auto self = weak.lock()) self->CloseSocket();
    };
  }
  // The Outbox sends nothing after a close frame (opcode 8).
  outbox_.PushRaw(std::string(*Frame::EncodeHeader(0x88, payload)), std::move(done));
}

template <class Stream>
void WebSocketSession<Stream>::HandleText(std::string_view text) {
  assert(shard_.InThisThread());
  ClientRequest request = ParseClientMessage(text);
  if (!auth_.required() &&
      (request.action == ClientRequest::Action::kAuth || request.error_code == "invalid_token")) {
    // Auth off: the answer any unknown action gets, as before auth existed.
    return SendError("unknown_action", "Unknown action: auth", request.req_id);
  }
  if (!auth_.authenticated() && request.action != ClientRequest::Action::kAuth &&
      request.action != ClientRequest::Action::kInvalid) {
    shard_.stats().ws_auth_unauthenticated.fetch_add(1, std::memory_order_relaxed);
    return SendError("unauthenticated",
                     "Authenticate first: {\"action\":\"auth\",\"token\":\"<JWT>\"}",
                     request.req_id);
  }
  switch (request.action) {
    case ClientRequest::Action::kSubscribe:
      return Subscribe(request.symbols, request.req_id);
    case ClientRequest::Action::kUnsubscribe:
      return Unsubscribe(request.symbols, request.req_id);
    case ClientRequest::Action::kPing:
      return Reply(RenderReply("pong", {}, request.req_id));
    case ClientRequest::Action::kListSubscriptions:
      return ListSubscriptions(request.req_id);
    case ClientRequest::Action::kAuth:
      return Authenticate(request.token, request.req_id);
    case ClientRequest::Action::kInvalid:
      return SendError(request.error_code, request.error_message, request.req_id);
  }
}

template <class Stream>
void WebSocketSession<Stream>::Authenticate(const std::string& token,
                                            const boost::json::value& req_id) {
  assert(shard_.InThisThread());
  const bool first = !auth_.authenticated();
  JwtVerdict verdict =
      auth_.Authenticate(token, shard_.clock().Now(), std::chrono::system_clock::now());
  if (!verdict.ok()) {
    CountRejection(shard_.stats(), verdict.error);
    shard_.stats().ws_closed_auth_rejected.fetch_add(1, std::memory_order_relaxed);
    SendError(JwtErrorCode(verdict.error), JwtErrorMessage(verdict.error), req_id);
    // The code is a static string, as Close's reason must be.
    return Close(websocket::close_code::policy_error, JwtErrorCode(verdict.error), "auth_rejected");
  }
  shard_.stats().ws_auth_accepted.fetch_add(1, std::memory_order_relaxed);
  boost::json::object reply{
      {"type", "authenticated"}, {"sub", verdict.claims->sub}, {"exp", verdict.claims->exp}};
  if (!req_id.is_null()) reply["req_id"] = req_id;
  Reply(Frame::Text(boost::json::serialize(reply)));
  if (first) {
    // The session the client_id left behind is its owner's only now.
    return RestoreSession(std::exchange(restore_symbols_, {}));
  }
  // A refresh with a narrower symbols claim: what it no longer allows is
  // unsubscribed (answered unsubscription_confirmed, after authenticated).
  std::vector<std::string> revoked;
  for (const auto& [symbol, subscription] : subscriptions_) {
    if (!auth_.Allows(symbol)) revoked.push_back(symbol);
  }
  std::sort(revoked.begin(), revoked.end());
  if (!revoked.empty()) Unsubscribe(revoked, req_id);
}

template <class Stream>
void WebSocketSession<Stream>::Subscribe(const std::vector<std::string>& requested,
                                         const boost::json::value& req_id) {
  assert(shard_.InThisThread());
  // Symbols outside the token's claim get forbidden, each in its place
  // among the answers; the others subscribe as usual.
  std::vector<std::string> allowed_symbols;
  const std::vector<std::string>* allowed = &requested;
  if (auth_.required()) {
    for (const std::string& symbol : requested) {
      if (auth_.Allows(symbol)) allowed_symbols.push_back(symbol);
    }
    allowed = &allowed_symbols;
  }
  const std::vector<std::string>& symbols = *allowed;
  std::size_t added = 0;
  for (const std::string& symbol : symbols) added += subscriptions_.contains(symbol) ? 0 : 1;
  // All or nothing: a list that does not fit subscribes none of its symbols.
  if (subscriptions_.size() + added > shard_.config().max_subscriptions) {
    return SendError("subscription_limit",
                     "Subscription limit exceeded: at most " +
                         std::to_string(shard_.config().max_subscriptions) + " per connection",
                     req_id);
  }
  for (const std::string& symbol : requested) {
    if (!auth_.Allows(symbol)) {
      shard_.stats().ws_auth_forbidden.fetch_add(1, std::memory_order_relaxed);
      SendError("forbidden", "Your token does not allow this symbol", req_id, symbol);
      continue;
    }
    auto [it, inserted] = subscriptions_.try_emplace(symbol);
    if (inserted) sessions().AddSymbol(client_id_, symbol);
    // A repeated subscribe (a restored symbol too) changes no count but is
    // still answered in order, with no second snapshot.
    std::uint64_t change =
        PushChange(symbol, inserted ? 1 : 0, req_id,
                   [](WebSocketSession* self, ReplySequencer::Ticket ticket, const std::string& s,
                      const boost::json::value& id, FramePtr snapshot, std::uint64_t applied) {
                     self->OnSubscribeApplied(ticket, s, id, std::move(snapshot), applied);
                   });
    if (inserted) it->second.change = change;
  }
}

template <class Stream>
void WebSocketSession<Stream>::OnSubscribeApplied(ReplySequencer::Ticket ticket,
                                                  const std::string& symbol,
                                                  const boost::json::value& req_id,
                                                  FramePtr snapshot, std::uint64_t change) {
  assert(shard_.InThisThread());
  FramePtr confirmation = RenderReply("subscription_confirmed", symbol, req_id);
  // Unsubscribed meanwhile (or subscribed again by a later request): the
  // confirmation still goes out, then the other answers, in the order the
  // client asked.
  if (!GoLive(symbol, change, snapshot)) return replies_.Fill(ticket, std::move(confirmation));
  // The snapshot shares its confirmation's slot: nothing queued after the
  // subscribe can come between them.
  replies_.Fill(ticket, std::move(confirmation), std::move(snapshot));
  SendDueReplies();
  // The hub answers in request order, so every earlier slot is filled and
  // this one is out now: no live book routed from here on can pass the
  // confirmation.
  assert(replies_.released(ticket));
}

template <class Stream>
void WebSocketSession<Stream>::OnRestoreApplied(ReplySequencer::Ticket ticket,
                                                const std::string& symbol, FramePtr snapshot,
                                                std::uint64_t change) {
  assert(shard_.InThisThread());
  // Unsubscribed meanwhile: its slot goes out empty.
  if (!GoLive(symbol, change, snapshot)) return replies_.Fill(ticket, nullptr);
  replies_.Fill(ticket, nullptr, std::move(snapshot));
  SendDueReplies();
  assert(replies_.released(ticket));  // As in OnSubscribeApplied.
}

template <class Stream>
bool WebSocketSession<Stream>::GoLive(const std::string& symbol, std::uint64_t change,
                                      const FramePtr& snapshot) {
  assert(shard_.InThisThread());
  auto it = subscriptions_.find(symbol);
  if (it == subscriptions_.end() || it->second.live || it->second.change != change) return false;
  it->second.live = true;
  shard_.AddSubscriber(symbol, this);
  if (snapshot) shard_.stats().snapshots_sent.fetch_add(1, std::memory_order_relaxed);
  return true;
}

template <class Stream>
SessionStore& WebSocketSession<Stream>::sessions() const {
  return shard_.state().sessions();
}

template <class Stream>
void WebSocketSession<Stream>::Unsubscribe(const std::vector<std::string>& symbols,
                                           const boost::json::value& req_id) {
  assert(shard_.InThisThread());
  for (const std::string& symbol : symbols) {
    auto it = subscriptions_.find(symbol);
    int delta = 0;
    if (it != subscriptions_.end()) {
      // Delivery stops now; the hub's count follows.
      if (it->second.live) shard_.RemoveSubscriber(symbol, this);
      subscriptions_.erase(it);
      if (throttle_) throttle_->Forget(symbol);
      // The session is the client_id's: it no longer follows the symbol,
      // whichever of its connections said so.
      sessions().RemoveSymbol(client_id_, symbol);
      delta = -1;
    }
    PushChange(symbol, delta, req_id,
               [](WebSocketSession* self, ReplySequencer::Ticket ticket, const std::string& s,
                  const boost::json::value& id, FramePtr, std::uint64_t) {
                 self->replies_.Fill(ticket, self->RenderReply("unsubscription_confirmed", s, id));
               });
  }
}

template <class Stream>
void WebSocketSession<Stream>::ListSubscriptions(const boost::json::value& req_id) {
  assert(shard_.InThisThread());
  std::vector<std::string_view> symbols;
  for (const auto& [symbol, state] : subscriptions_) symbols.push_back(symbol);
  std::sort(symbols.begin(), symbols.end());
  boost::json::object reply{{"type", "subscriptions"},
                            {"symbols", boost::json::array(symbols.begin(), symbols.end())}};
  if (!req_id.is_null()) reply["req_id"] = req_id;
  Reply(Frame::Text(boost::json::serialize(reply)));
}

template <class Stream>
std::uint64_t WebSocketSession<Stream>::PushChange(const std::string& symbol, int delta,
                                                   const boost::json::value& req_id, Then then) {
  assert(shard_.InThisThread());
  const std::uint64_t number = ++changes_pushed_;
  SubscriptionChange change;
  change.shard = shard_.index();
  change.symbol = symbol;
  change.delta = delta;
  if (then) {
    // The answer's place among this client's replies is taken now, so that
    // replies go out in the order of the requests.
    ReplySequencer::Ticket ticket = replies_.Reserve();
    change.on_applied = [weak = this->weak_from_this(), &io = shard_.io_context(), ticket, symbol,
                         req_id, then, number](FramePtr snapshot) {
      // On the hub thread: hop back to the session's shard.
      boost::asio::post(
          io, [weak, ticket, symbol, req_id, then, number, snapshot = std::move(snapshot)] {
            auto self = weak.lock();
            if (!self || !self->registered_) return;
            then(self.get(), ticket, symbol, req_id, snapshot, number);
            self->SendDueReplies();
          });
    };
  }
  shard_.state().queue.PushControl(shard_.token(), std::move(change));
  return number;
}

template <class Stream>
FramePtr WebSocketSession<Stream>::RenderReply(std::string_view type, std::string_view symbol,
                                               const boost::json::value& req_id) const {
  boost::json::object reply{{"type", type}};
  if (!symbol.empty()) reply["symbol"] = symbol;
  if (type == "subscription_confirmed") reply["epoch"] = shard_.state().broker().epoch();
  if (!req_id.is_null()) reply["req_id"] = req_id;
  return Frame::Text(boost::json::serialize(reply));
}

template <class Stream>
void WebSocketSession<Stream>::SendError(std::string_view code, std::string_view message,
                                         const boost::json::value& req_id,
                                         std::string_view symbol) {
  assert(shard_.InThisThread());
  shard_.stats().ws_errors.fetch_add(1, std::memory_order_relaxed);
  LogEvent(LogKind::ws_rejected, spdlog::level::warn, "ws_rejected", [&](LogFields& line) {
    line.Add("client_id", client_id_)
        .AddPeer("peer", peer_.address().to_string(), peer_.port())
        .Add("code", code);
    if (!symbol.empty()) line.Add("symbol", symbol);
  });
  boost::json::object reply{{"type", "error"}, {"code", code}, {"message", message}};
  if (!symbol.empty()) reply["symbol"] = symbol;
  if (!req_id.is_null()) reply["req_id"] = req_id;
  Reply(Frame::Text(boost::json::serialize(reply)));
}

template <class Stream>
void WebSocketSession<Stream>::Reply(FramePtr frame) {
  assert(shard_.InThisThread());
  replies_.Add(std::move(frame));
  SendDueReplies();
}

template <class Stream>
void WebSocketSession<Stream>::SendDueReplies() {
  assert(shard_.InThisThread());
  bool close_due = replies_.Release([this](FramePtr frame) {
    if (frame->symbol().empty()) {
      outbox_.Push(std::move(frame));
    } else {
      Queue(frame);  // A snapshot: a book like any other (throttle, conflation).
    }
  });
  if (close_due) StartCloseHandshake();
  Flush();
}

template <class Stream>
bool WebSocketSession<Stream>::Queue(const FramePtr& frame) {
  assert(shard_.InThisThread());
  if (throttle_) {
    SymbolThrottle::Verdict verdict = throttle_->Pass(frame, shard_.clock().Now());
    if (!verdict.send_now) {
      if (verdict.replaced) {
        shard_.stats().messages_throttled.fetch_add(1, std::memory_order_relaxed);
      }
      throttle_timer_.WakeAt(verdict.due, [weak = this->weak_from_this()] {
        if (auto self = weak.lock()) self->OnThrottleTimer();
      });
      return false;
    }
  }
  outbox_.Push(frame);
  return !std::exchange(flush_due_, true);
}

template <class Stream>
void WebSocketSession<Stream>::OnThrottleTimer() {
  assert(shard_.InThisThread());
  if (!registered_) return;
  std::vector<FramePtr> due;
  std::optional<Clock::time_point> next = throttle_->TakeDue(shard_.clock().Now(), due);
  for (FramePtr& frame : due) outbox_.Push(std::move(frame));
  Flush();
  if (next) {
    throttle_timer_.WakeAt(*next, [weak = this->weak_from_this()] {
      if (auto self = weak.lock()) self->OnThrottleTimer();
    });
  }
}

template <class Stream>
void WebSocketSession<Stream>::Flush() {
  assert(shard_.InThisThread());
  flush_due_ = false;
  outbox_.Flush();
}

template <class Stream>
void WebSocketSession<Stream>::Tick(Clock::time_point now) {
  assert(shard_.InThisThread());
  if (!registered_) return;
  if (replies_.close_queued()) {
    // The replies before the close, or the close handshake, did not finish.
    if (now - closing_since_ >= kCloseTimeout) CloseSocket();
    return;
  }
  switch (auth_.Check(now)) {
    case SessionAuth::Verdict::kNothing:
      break;
    case SessionAuth::Verdict::kAuthTimeout:
      shard_.stats().ws_closed_auth_timeout.fetch_add(1, std::memory_order_relaxed);
      return Close(websocket::close_code::policy_error, "auth timeout", "auth_timeout");
    case SessionAuth::Verdict::kExpired:
      shard_.stats().ws_closed_token_expired.fetch_add(1, std::memory_order_relaxed);
      return Close(websocket::close_code::policy_error, "token expired", "token_expired");
  }
  const GatewayConfig& config = shard_.config();
  std::optional<Clock::time_point> over_budget = outbox_.over_budget_since();
  if ((over_budget && now - *over_budget >= config.slow_consumer_grace) ||
      outbox_.StalledFor(now) >= config.send_timeout) {
    shard_.stats().ws_closed_slow.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("ws {}: slow consumer, {} bytes unwritten", client_id_, outbox_.queued_bytes());
    // Its books are stale anyway; the close frame should not wait behind them.
    outbox_.DiscardBooks();
    return Close(websocket::close_code::policy_error, "slow consumer", "slow_consumer");
  }
  switch (heartbeat_.Check(now)) {
    case Heartbeat::Verdict::kNothing:
      break;
    case Heartbeat::Verdict::kIdle:
      shard_.stats().ws_closed_idle.fetch_add(1, std::memory_order_relaxed);
      return Close(websocket::close_code::policy_error, "idle timeout", "idle");
    case Heartbeat::Verdict::kPing:
      // Not a Beast ping: the shared frame goes through the Outbox like any
      // control item and never waits for a Beast write slot. Not a reply
      // either: it waits for none.
      shard_.stats().ws_pings_sent.fetch_add(1, std::memory_order_relaxed);
      outbox_.Push(Frame::Ping());
      Flush();
      break;
  }
}

template <class Stream>
void WebSocketSession<Stream>::CloseGoingAway() {
  assert(shard_.InThisThread());
  if (!registered_) return;
  Close(websocket::close_code::going_away, "server shutting down", "shutdown");
}

template <class Stream>
void WebSocketSession<Stream>::Close(websocket::close_code code, std::string_view reason,
                                     std::string_view why) {
  assert(shard_.InThisThread());
  if (replies_.close_queued()) return;
  NoteEnd(static_cast<std::uint16_t>(code), reason, why);
  closing_since_ = shard_.now();
  close_code_ = code;
  close_text_ = reason;
  // The last item: every reply queued so far goes out before the close
  // frame (docs/protocol.md 2.10), nothing after it.
  replies_.QueueClose();
  SendDueReplies();
}

template <class Stream>
void WebSocketSession<Stream>::NoteEnd(std::uint16_t code, std::string_view reason,
                                       std::string_view why) {
  if (!end_why_.empty()) return;
  end_code_ = code;
  end_reason_.assign(reason.substr(0, 123));
  end_why_ = why;
}

template <class Stream>
void WebSocketSession<Stream>::LogClosed() {
  LogEvent(LogKind::ws_connection, spdlog::level::info, "ws_closed", [this](LogFields& line) {
    line.Add("client_id", client_id_)
        .AddPeer("peer", peer_.address().to_string(), peer_.port())
        .Add("shard", shard_.index())
        .Add("tls", kIsTlsStream<Stream>)
        .Add("code", end_code_)
        .Add("reason", end_reason_)
        .Add("why", end_why_.empty() ? std::string_view("connection_lost") : end_why_)
        .AddMillis("duration_ms", shard_.clock().Now() - opened_at_)
        .Add("messages_sent", outbox_.messages_sent());
  });
}

template <class Stream>
void WebSocketSession<Stream>::StartCloseHandshake() {
  assert(shard_.InThisThread());
  SendCloseFrame(static_cast<std::uint16_t>(close_code_), close_text_, /*then_close=*/false);
}

template <class Stream>
void WebSocketSession<Stream>::CloseSocket() {
  assert(shard_.InThisThread());
  beast::error_code ignored;
  if constexpr (kIsTlsStream<Stream>) {
    if (!tls_.shutting_down) {
      // close_notify first, so the peer sees a clean end of the TLS stream;
      // bounded by the close's deadline: Tick calls this again at
      // kCloseTimeout, which closes the socket.
      tls_.shutting_down = true;
      socket_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->socket_).close();
      });
      return;
    }
    // Cancels the read, the write and the shutdown in flight.
    TcpSocketOf(socket_).close(ignored);
  } else {
    // Cancels the read and the write in flight; their handlers clean up.
    socket_.close(ignored);
  }
}

template <class Stream>
void WebSocketSession<Stream>::Cleanup() {
  assert(shard_.InThisThread());
  cleaned_up_ = true;
  if (node_admitted_) shard_.state().connection_limits.Release();
  node_admitted_ = false;
  // Its symbols stay in the session: they are what a reconnect gets back.
  if (store_admitted_) sessions().Close(client_id_);
  store_admitted_ = false;
  if (!registered_) return;
  LogClosed();
  registered_ = false;
  for (const auto& [symbol, subscription] : subscriptions_) {
    if (subscription.live) shard_.RemoveSubscriber(symbol, this);
    PushChange(symbol, -1, nullptr, nullptr);
  }
  subscriptions_.clear();
  throttle_timer_.Cancel();
  shard_.Unregister(this);
}

template <class Stream>
void WebSocketSession<Stream>::Fail(beast::error_code ec, const char* what) {
  assert(shard_.InThisThread());
  // Ordinary ends of a connection are not worth a log line.
  if (ec != websocket::error::closed && ec != boost::asio::error::eof &&
      ec != boost::asio::error::operation_aborted && ec != boost::asio::error::connection_reset &&
      ec != beast::error::timeout && ec != boost::asio::ssl::error::stream_truncated) {
    spdlog::debug("ws {}: {}: {}", client_id_, what, ec.message());
  }
  // The connection ended without a close handshake (or during ours).
  NoteEnd(1006, ec.message(), "connection_lost");
  Cleanup();
}

// The stream types connections use.
template class WebSocketSession<boost::asio::ip::tcp::socket>;
template class WebSocketSession<TlsStream>;

}  // namespace obgw::gateway
