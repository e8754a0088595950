#ifndef OBGW_GATEWAY_SERVER_GATEWAY_CONFIG_H_
#define OBGW_GATEWAY_SERVER_GATEWAY_CONFIG_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gateway/metrics/stat_registry.h"

namespace obgw::gateway {

class JwtVerifier;    // gateway/auth/jwt_verifier.h
class PublishTokens;  // gateway/auth/publish_tokens.h
class TlsContext;     // gateway/tls/tls_context.h

// Settings of the HTTP/WebSocket side, filled from flags by main.cc. Read-only
// once the gateway starts, so every thread may read it.
struct GatewayConfig {
  // The program's version, reported by GET /health ("0.1.0").
  std::string version;
  // This node's id in its cluster (--node_id), shown in GET /stats; empty
  // for a single node.
  std::string node_id;
  std::string bind = "0.0.0.0";
  std::uint16_t http_port = 8002;
  std::uint32_t threads = 1;
  // Largest POST body accepted (413 above it).
  std::size_t max_body_bytes = 1 << 20;
  // Largest inbound WebSocket message (close 1009 above it).
  std::size_t max_frame_bytes = 64 << 10;
  // Subscriptions one connection may hold.
  std::size_t max_subscriptions = 50;
  // Books one connection may have queued before conflation starts.
  std::size_t session_queue_frames = 256;
  // Slow consumers: bytes a connection may have unwritten (queued + in
  // flight) before conflation starts; a connection over it for longer than
  // the grace, or whose write makes no progress for send_timeout, is closed
  // with 1008 "slow consumer".
  std::size_t slow_consumer_bytes = 4 << 20;
  std::chrono::milliseconds slow_consumer_grace{5000};
  std::chrono::milliseconds send_timeout{10000};
  // Freshness: once a connection's oldest queued book has waited this long
  // (from when it was queued), its queue keeps only the newest book of each
  // symbol until it catches up. Zero disables.
  std::chrono::milliseconds session_queue_max_age{20};
  // The kernel's send buffer of each WebSocket (SO_SNDBUF), kept small so
  // that books wait in the Outbox, where conflation reaches them, not in the
  // kernel; 0 leaves the kernel's autotuning. TCP_NOTSENT_LOWAT likewise
  // bounds the bytes the kernel holds not yet sent; 0 leaves it unset.
  std::size_t socket_send_buffer_bytes = 64 << 10;
  std::size_t socket_notsent_lowat_bytes = 0;
  // Which web pages may open a WebSocket (--allowed_origins, checked by
  // gateway/http/origin_policy): the Origin of an upgrade must be one of
  // `allowed_origins` (normalised: lower case "scheme://host[:port]"); empty
  // allows every Origin. An upgrade without Origin (not a browser) passes
  // when `allow_missing_origin`.
  std::vector<std::string> allowed_origins;
  // --web_root: the page and the client library are read from this directory
  // (resolved: no symlink, no "..") on every request instead of the copies
  // embedded at build time; empty serves the embedded ones. Development.
  std::string web_root;
  bool allow_missing_origin = true;
  // Heartbeats: a ping to a client silent for ping_interval; a client silent
  // (no message, pong or ping) for idle_timeout is closed. Zero disables.
  std::chrono::milliseconds ping_interval{20000};
  std::chrono::milliseconds idle_timeout{60000};
  // How long a client_id's subscriptions are kept after its last connection
  // closed (a reconnect within it gets them back: session_restored).
  std::chrono::milliseconds session_ttl{300000};
  // Connection limits (close 1008): per client_id, and per node.
  std::size_t max_connections_per_client = 10;
  std::size_t max_connections = 100000;
  // Inbound messages per connection: a token bucket of `burst` tokens
  // refilled at `per_second`. A message over it gets error "rate_limited";
  // `burst` rejected messages in a row close the connection with 1008.
  double max_messages_per_second = 50;
  std::size_t max_message_burst = 100;
  // Queue depth at which REST answers 503 and gRPC streams pause.
  std::size_t queue_high_water = 8192;
  // How long a WebSocket handshake or an idle HTTP connection may take.
  std::chrono::seconds handshake_timeout{30};
  // permessage-deflate (RFC 7692) for clients that offer it; payloads under
  // deflate_min_bytes go uncompressed; zlib level 1 (fast) to 9 (small).
  bool deflate = false;
  std::size_t deflate_min_bytes = 256;
  int deflate_level = 1;
  // The LZ77 window (2^bits bytes) clients may use for their compressed
  // messages, i.e. the inflate memory a connection may need. Clients that do
  // not offer client_max_window_bits (they need 15) get no compression
  // unless this is 15.
  int deflate_client_window_bits = 9;
  // Stats of other components (ingest, see BindStats), shown in GET /stats
  // and GET /metrics after the gateway's own; their counters must outlive
  // the gateway.
  std::vector<RegisteredStat> extra_stats;

  // Browser authentication (issue 11, JWT; gateway/auth). Null when auth is
  // off (neither --jwt_secret nor --jwt_public_key_file): every client is
  // served as before. Otherwise a WebSocket must show a valid token, on the
  // upgrade (?token=) or in its first message within `auth_timeout`.
  std::shared_ptr<const JwtVerifier> jwt_verifier;
  std::chrono::milliseconds auth_timeout{5000};
  // Publisher auth and per-IP connection rate limit (issue 11, pubauth).
  // POST /broadcast/orderbook needs `Authorization: Bearer` with one of the
  // publish tokens (--publish_tokens, checked by gateway/http's broadcast
  // handler; 401 otherwise); null: anyone may publish. Shared with the gRPC
  // ingest, which checks the same tokens.
  std::shared_ptr<const PublishTokens> publish_tokens;
  // New TCP connections per second one peer IP (IPv6: its /64) may open, and
  // how many at once: a token bucket per IP checked by the Listener when it
  // accepts, before any HTTP parse or TLS handshake; a connection over it is
  // closed at once (connections_refused_rate). 0: no limit.
  double connection_rate_per_ip = 0;
  std::size_t connection_burst_per_ip = 0;
  // TLS on the HTTP port (issue 11; --tls_cert_file, --tls_key_file): when
  // set, every connection speaks HTTPS/WSS with the context current at its
  // accept (reloaded on SIGHUP by main.cc); null serves plaintext. A TLS
  // handshake not done within tls_handshake_timeout is dropped (counted:
  // tls_handshake_timeout).
  std::shared_ptr<const TlsContext> tls;
  std::chrono::milliseconds tls_handshake_timeout{5000};
  // With tls: plaintext HTTP/WS is served on the same port too, told apart
  // by the first bytes (--tls_allow_plaintext).
  bool tls_allow_plaintext = false;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_SERVER_GATEWAY_CONFIG_H_
