// orderbook-gateway: gRPC and REST order books in, WebSocket fan-out out.
//
// The one place that wires the ingest (gRPC) and the gateway (HTTP/WebSocket)
// together: parse flags (each with an environment fallback), start both,
// print the ready line, wait for SIGINT/SIGTERM (SIGHUP reloads the TLS
// certificate), shut down in order.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

#include <absl/flags/flag.h>
#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "gateway/auth/jwt_verifier.h"
#include "gateway/auth/publish_tokens.h"
#include "gateway/http/origin_policy.h"
#include "gateway/logging/event_log.h"
#include "gateway/metrics/stat_registry.h"
#include "gateway/node/gateway.h"
#include "gateway/redis/redis_cluster.h"
#include "gateway/redis/redis_url.h"
#include "gateway/tls/tls_context.h"
#include "gateway/web/web_files.h"
#include "ingest/cli/build_info.h"
#include "ingest/cli/command_line.h"
#include "ingest/cli/log_flags.h"
#include "ingest/ingest_service.h"
#include "ingest/ingest_stats.h"
#include "ingest/tls_credentials.h"

ABSL_FLAG(std::string, bind, "0.0.0.0", "Address of both listeners.");
ABSL_FLAG(int32_t, http_port, 8002, "HTTP + WebSocket port; 0 picks a free port.");
ABSL_FLAG(int32_t, grpc_port, 50051, "gRPC ingest port; 0 picks a free port.");
ABSL_FLAG(int32_t, grpc_receive_window_bytes, obgw::ingest::kDefaultReceiveWindowBytes,
          "How far the gRPC listener reads ahead of each stream (HTTP/2 windows, no BDP "
          "probing): while the gateway is behind, books wait in the backend, not in the "
          "gateway's socket; 0 = gRPC's default (windows grow to megabytes).");
// gRPC tooling (issue 13, grpc): server reflection beside the ingest service.
ABSL_FLAG(bool, grpc_reflection, true,
          "Serve gRPC server reflection (grpc.reflection.v1alpha) on the gRPC port, so grpcurl "
          "and other tools need no .proto; false: off.");
ABSL_FLAG(int32_t, threads, static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency())),
          "I/O shards (threads); default one per core.");
ABSL_FLAG(std::string, redis_url, "",
          "Redis for sessions and clustering; empty = single node, in memory.");
ABSL_FLAG(int32_t, redis_timeout_ms, 1000,
          "Redis connect and command timeout: a Redis slower than this is declared down (the "
          "node serves its own clients, degraded) and reconnected.");
ABSL_FLAG(std::string, node_id, "",
          "This node's id in the cluster (in every book it publishes, and /stats); default "
          "<hostname>:<http_port>:<pid>.");
ABSL_FLAG(int32_t, session_ttl_ms, 300000,
          "How long a client_id's subscriptions are kept after its last connection closes.");
ABSL_FLAG(int64_t, max_body_bytes, 1 << 20,
          "Largest POST /broadcast/orderbook body; larger ones get 413.");
ABSL_FLAG(int64_t, max_frame_bytes, 64 << 10,
          "Largest inbound WebSocket message; larger ones close the connection with 1009.");
ABSL_FLAG(int32_t, max_subscriptions, 50, "Subscriptions one WebSocket connection may hold.");
ABSL_FLAG(int32_t, session_queue_frames, 256,
          "Books one connection may have queued before older books of a symbol are replaced "
          "by newer ones.");
ABSL_FLAG(int64_t, slow_consumer_bytes, 4 << 20,
          "Bytes a WebSocket may have unwritten before its books are conflated; over it for "
          "longer than --slow_consumer_grace_ms closes it with 1008 \"slow consumer\".");
ABSL_FLAG(int32_t, slow_consumer_grace_ms, 5000,
          "How long a WebSocket may stay over --slow_consumer_bytes.");
ABSL_FLAG(int32_t, send_timeout_ms, 10000,
          "A WebSocket write that makes no progress for this long closes the connection with "
          "1008 \"slow consumer\".");
ABSL_FLAG(int32_t, session_queue_max_age_ms, 20,
          "Once a WebSocket's oldest queued book has waited this long, its queue keeps only "
          "the newest book of each symbol until it catches up; 0 = no age bound.");
ABSL_FLAG(int64_t, socket_send_buffer_bytes, 64 << 10,
          "Kernel send buffer of each WebSocket (SO_SNDBUF), small so that books wait where "
          "a newer one can replace them; 0 = the kernel's autotuning.");
ABSL_FLAG(int64_t, socket_notsent_lowat_bytes, 0,
          "TCP_NOTSENT_LOWAT of each WebSocket: unsent bytes the kernel accepts; 0 = unset.");
ABSL_FLAG(std::vector<std::string>, allowed_origins, {},
          "Comma-separated origins (scheme://host[:port]) whose pages may open a WebSocket; "
          "others get 403 origin_forbidden. Empty = any origin.");
ABSL_FLAG(bool, allow_missing_origin, true,
          "Whether a WebSocket upgrade without an Origin header (not from a browser) is "
          "allowed.");
ABSL_FLAG(std::string, web_root, "",
          "Serve the page and the client library from this directory, read on every request "
          "(development), instead of the copies built into the binary. Empty = built in.");
ABSL_FLAG(int32_t, ping_interval_ms, 20000,
          "Ping a WebSocket client silent for this long; 0 = never.");
ABSL_FLAG(int32_t, idle_timeout_ms, 60000,
          "Close a WebSocket client silent (no message, ping or pong) for this long with 1008 "
          "\"idle timeout\"; 0 = never.");
ABSL_FLAG(int32_t, max_connections_per_client, 10,
          "WebSocket connections one client_id may hold; more are closed with 1008 "
          "\"Connection limit exceeded\".");
ABSL_FLAG(int32_t, max_connections, 100000,
          "WebSocket connections this node serves; more are closed with 1013.");
ABSL_FLAG(double, max_messages_per_second, 50,
          "Client messages per second per WebSocket (token bucket rate); more get error "
          "\"rate_limited\".");
ABSL_FLAG(int32_t, max_message_burst, 100,
          "Token bucket size; as many refused messages in a row close the connection with 1008.");
ABSL_FLAG(bool, ws_deflate, false,
          "Compress WebSocket frames with permessage-deflate for clients that offer it.");
ABSL_FLAG(int32_t, ws_deflate_min_bytes, 256, "Smaller messages are sent uncompressed.");
ABSL_FLAG(int32_t, ws_deflate_level, 1, "zlib level, 1 (fastest) to 9 (smallest).");
ABSL_FLAG(int32_t, ws_deflate_client_window_bits, 9,
          "LZ77 window (2^N bytes, 9-15) clients may compress their messages with: the inflate "
          "memory per connection. Below 15, clients that cannot limit their window (they do "
          "not offer client_max_window_bits) get no compression.");
ABSL_FLAG(int64_t, queue_high_water, 8192,
          "Queued books at which REST answers 503 and gRPC streams pause.");
ABSL_FLAG(int32_t, shutdown_grace_ms, 5000,
          "On SIGTERM/SIGINT: how long open gRPC streams may take to end, then how long "
          "WebSocket clients may take to answer the 1001 close.");
ABSL_FLAG(int32_t, max_levels, 1000, "Most levels per side of a gRPC book.");
// Browser authentication (issue 11, JWT): on as soon as a secret, a key or a JWKS is set.
ABSL_FLAG(std::string, jwt_secret, "",
          "HS256 secret (at least 32 bytes) browser tokens are signed with; setting it (or "
          "--jwt_public_key_file) makes every WebSocket authenticate.");
ABSL_FLAG(std::string, jwt_public_key_file, "",
          "PEM public key (or certificate) browser tokens are signed for: RSA (RS256, >= 2048 "
          "bits) or EC P-256 (ES256), the algorithm taken from the key.");
ABSL_FLAG(std::string, jwt_jwks_file, "",
          "JWK Set file (RFC 7517) of RSA and EC P-256 public keys, picked by the token's kid: "
          "several keys at once, for rotation. Setting it makes every WebSocket authenticate.");
ABSL_FLAG(int32_t, jwt_leeway_s, 30,
          "Clock difference allowed with the token issuer for exp and nbf, in seconds.");
ABSL_FLAG(std::string, jwt_issuer, "", "When set, a token's iss must be this.");
ABSL_FLAG(std::string, jwt_audience, "", "When set, a token's aud must name this.");
ABSL_FLAG(int32_t, auth_timeout_ms, 5000,
          "With auth on, how long a WebSocket opened without ?token= has to send "
          "{\"action\":\"auth\"} before it is closed with 1008 \"auth timeout\".");

// Publisher auth, per-IP connection rate limit, Redis password (issue 11, pubauth).
ABSL_FLAG(std::vector<std::string>, publish_tokens, {},
          "Comma-separated secrets (at least 16 visible ASCII characters each; several for "
          "rotation): POST /broadcast/orderbook needs 'Authorization: Bearer <one>' (else 401) "
          "and gRPC publishing metadata 'authorization: Bearer <one>' (else UNAUTHENTICATED). "
          "Empty = anyone may publish.");
ABSL_FLAG(double, connection_rate_per_ip, 0,
          "New TCP connections per second one peer IP (IPv6: its /64) may open on the HTTP "
          "port; more are closed at accept, before any HTTP or TLS work. 0 = no limit.");
ABSL_FLAG(int32_t, connection_burst_per_ip, 20,
          "How many connections one peer IP may open at once before --connection_rate_per_ip "
          "applies.");
ABSL_FLAG(std::string, redis_password, "",
          "Password sent with AUTH on every Redis (re)connect (with the user of --redis_url, "
          "if any); instead of a password in --redis_url, never both.");

// TLS (issue 11).
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate (the server's first, then its chain); with --tls_key_file the HTTP "
          "port speaks HTTPS/WSS only and the gRPC port TLS. SIGHUP reloads both files.");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file.");
ABSL_FLAG(int32_t, tls_handshake_timeout_ms, 5000,
          "A TLS handshake on the HTTP port not done within this long drops the connection.");
ABSL_FLAG(bool, tls_allow_plaintext, false,
          "With TLS: serve plaintext HTTP/WebSocket on the HTTP port too (told apart from TLS "
          "by the first bytes); default TLS only.");

namespace {

using obgw::gateway::Gateway;
using obgw::gateway::GatewayConfig;

// What the configuration says about itself (auth off, the TLS certificate,
// the cluster node...): logged once everything has started, so that a
// start-up error stays the one line Die prints. Main thread only.
class StartupNotes {
 public:
  template <typename... Args>
  void Add(spdlog::level::level_enum level, fmt::format_string<Args...> format, Args&&... args) {
    notes_.emplace_back(level, fmt::format(format, std::forward<Args>(args)...));
  }
  void Log() {
    for (const auto& [level, text] : notes_) spdlog::log(level, "{}", text);
    notes_.clear();
  }

 private:
  std::vector<std::pair<spdlog::level::level_enum, std::string>> notes_;
};

StartupNotes& Notes() {
  static StartupNotes notes;
  return notes;
}

[[noreturn]] void Die(const std::string& reason) {
  std::fprintf(stderr, "orderbook-gateway: %s\n", reason.c_str());
  std::exit(2);
}

// The gateway's command line: every flag above, once, under its --help
// heading; each also read from the environment (--http_port: HTTP_PORT).
obgw::cli::Program CommandLine() {
  using obgw::cli::Flags;
  return {
      .name = "orderbook-gateway",
      .summary =
          "Order books in over gRPC (Publish stream) or POST /broadcast/orderbook, out to "
          "browsers over WebSocket /ws/{client_id}.",
      .groups =
          {
              {"Listeners", Flags(FLAGS_bind, FLAGS_http_port, FLAGS_grpc_port,
                                  FLAGS_grpc_receive_window_bytes, FLAGS_threads)},
              {"Cluster",
               Flags(FLAGS_redis_url, FLAGS_redis_timeout_ms, FLAGS_node_id, FLAGS_session_ttl_ms)},
              {"Limits", Flags(FLAGS_max_body_bytes, FLAGS_max_frame_bytes, FLAGS_max_subscriptions,
                               FLAGS_max_connections_per_client, FLAGS_max_connections,
                               FLAGS_max_messages_per_second, FLAGS_max_message_burst,
                               FLAGS_max_levels, FLAGS_queue_high_water)},
              {"Slow consumers", Flags(FLAGS_session_queue_frames, FLAGS_slow_consumer_bytes,
                                       FLAGS_slow_consumer_grace_ms, FLAGS_send_timeout_ms)},
              {"Freshness", Flags(FLAGS_session_queue_max_age_ms, FLAGS_socket_send_buffer_bytes,
                                  FLAGS_socket_notsent_lowat_bytes)},
              {"Access", Flags(FLAGS_allowed_origins, FLAGS_allow_missing_origin)},
              {"Web page", Flags(FLAGS_web_root)},
              {"Heartbeats", Flags(FLAGS_ping_interval_ms, FLAGS_idle_timeout_ms)},
              {"Compression", Flags(FLAGS_ws_deflate, FLAGS_ws_deflate_min_bytes,
                                    FLAGS_ws_deflate_level, FLAGS_ws_deflate_client_window_bits)},
              {"Shutdown", Flags(FLAGS_shutdown_grace_ms)},
              // --log_level, --log_format, --log_tag... (issue 13, logs).
              obgw::cli::LoggingFlags(),
              {"Authentication", Flags(FLAGS_jwt_secret, FLAGS_jwt_public_key_file,
                                       FLAGS_jwt_jwks_file, FLAGS_jwt_leeway_s, FLAGS_jwt_issuer,
                                       FLAGS_jwt_audience, FLAGS_auth_timeout_ms)},
              // Publisher auth, per-IP connection rate limit, Redis password (issue 11, pubauth).
              {"Publishers, connection rate, Redis auth",
               Flags(FLAGS_publish_tokens, FLAGS_connection_rate_per_ip,
                     FLAGS_connection_burst_per_ip, FLAGS_redis_password)},
              {"TLS", Flags(FLAGS_tls_cert_file, FLAGS_tls_key_file, FLAGS_tls_handshake_timeout_ms,
                            FLAGS_tls_allow_plaintext)},
              // gRPC tooling (issue 13, grpc).
              {"gRPC tooling", Flags(FLAGS_grpc_reflection)},
          },
      .environment_fallback = true,
      // Secrets may come from NAME_FILE (Docker/Kubernetes secrets), and
      // are never echoed in an error.
      .secrets = Flags(FLAGS_jwt_secret, FLAGS_publish_tokens, FLAGS_redis_password),
  };
}

template <typename T>
T InRange(const char* flag, T value, T low, T high) {
  if (value < low || value > high) {
    Die(absl::StrCat("--", flag, "=", value, " is out of range [", low, ", ", high, "]"));
  }
  return value;
}

// Browser authentication (issue 11): --jwt_* flags into config.jwt_verifier
// (left null, auth off, when neither a secret nor a key is set). A bad
// secret or key exits 2 with a reason that never quotes them.
void ConfigureBrowserAuth(GatewayConfig& config) {
  config.auth_timeout = std::chrono::milliseconds(
      InRange("auth_timeout_ms", absl::GetFlag(FLAGS_auth_timeout_ms), 100, 600000));
  obgw::gateway::JwtVerifierConfig jwt;
  jwt.secret = absl::GetFlag(FLAGS_jwt_secret);
  jwt.leeway =
      std::chrono::seconds(InRange("jwt_leeway_s", absl::GetFlag(FLAGS_jwt_leeway_s), 0, 3600));
  jwt.issuer = absl::GetFlag(FLAGS_jwt_issuer);
  jwt.audience = absl::GetFlag(FLAGS_jwt_audience);
  // A key file's text (at most 1 MiB), or exit 2.
  auto read_file = [](const char* flag, const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in || text.str().empty()) Die(absl::StrCat("--", flag, ": cannot read ", path));
    if (text.str().size() > (1 << 20)) Die(absl::StrCat("--", flag, ": larger than 1 MiB"));
    return text.str();
  };
  if (std::string file = absl::GetFlag(FLAGS_jwt_public_key_file); !file.empty()) {
    jwt.public_key_pem = read_file("jwt_public_key_file", file);
    jwt.public_key_source = "--jwt_public_key_file " + file;
  }
  if (std::string file = absl::GetFlag(FLAGS_jwt_jwks_file); !file.empty()) {
    jwt.jwks_json = read_file("jwt_jwks_file", file);
    jwt.jwks_source = "--jwt_jwks_file " + file;
  }
  if (jwt.secret.empty() && jwt.public_key_pem.empty() && jwt.jwks_json.empty()) {
    Notes().Add(
        spdlog::level::warn,
        "browser auth is off (no --jwt_secret, --jwt_public_key_file or --jwt_jwks_file): any "
        "client may open a WebSocket for any client_id and read every symbol");
    return;
  }
  std::chrono::seconds leeway = jwt.leeway;
  auto verifier = obgw::gateway::JwtVerifier::Create(std::move(jwt));
  if (!verifier.ok()) Die(std::string(verifier.status().message()));
  Notes().Add(spdlog::level::info,
              "browser auth: tokens required ({}), leeway {} s, auth message within {} ms",
              (*verifier)->Describe(), leeway.count(), config.auth_timeout.count());
  config.jwt_verifier = *std::move(verifier);
}

// --publish_tokens set: the tokens (exits 2, naming the bad token by
// position only, when one is unusable); empty: null, anyone may publish,
// which the log says at start.
std::shared_ptr<const obgw::gateway::PublishTokens> PublishTokensFromFlags() {
  std::vector<std::string> flag = absl::GetFlag(FLAGS_publish_tokens);
  if (flag.empty()) {
    Notes().Add(spdlog::level::warn,
                "publisher auth is off: anyone who reaches the HTTP or gRPC port may publish order "
                "books (set --publish_tokens)");
    return nullptr;
  }
  auto tokens = obgw::gateway::PublishTokens::Create(flag);
  if (!tokens.ok()) Die(std::string(tokens.status().message()));
  Notes().Add(spdlog::level::info, "publisher auth: {} publish token(s)", tokens->size());
  return std::make_shared<const obgw::gateway::PublishTokens>(*std::move(tokens));
}

GatewayConfig ConfigFromFlags() {
  GatewayConfig config;
  config.version = obgw::cli::kVersion;
  config.bind = absl::GetFlag(FLAGS_bind);
  config.http_port =
      static_cast<std::uint16_t>(InRange("http_port", absl::GetFlag(FLAGS_http_port), 0, 65535));
  config.threads =
      static_cast<std::uint32_t>(InRange("threads", absl::GetFlag(FLAGS_threads), 1, 1024));
  config.max_body_bytes = static_cast<std::size_t>(
      InRange<int64_t>("max_body_bytes", absl::GetFlag(FLAGS_max_body_bytes), 2, 1LL << 30));
  config.max_frame_bytes = static_cast<std::size_t>(
      InRange<int64_t>("max_frame_bytes", absl::GetFlag(FLAGS_max_frame_bytes), 64, 1LL << 26));
  config.max_subscriptions = static_cast<std::size_t>(
      InRange("max_subscriptions", absl::GetFlag(FLAGS_max_subscriptions), 1, 100000));
  config.session_queue_frames = static_cast<std::size_t>(
      InRange("session_queue_frames", absl::GetFlag(FLAGS_session_queue_frames), 1, 1 << 20));
  config.slow_consumer_bytes = static_cast<std::size_t>(InRange<int64_t>(
      "slow_consumer_bytes", absl::GetFlag(FLAGS_slow_consumer_bytes), 1024, 1LL << 34));
  auto millis = [](const char* flag, int32_t value, int32_t low) {
    return std::chrono::milliseconds(InRange(flag, value, low, 24 * 3600 * 1000));
  };
  config.slow_consumer_grace =
      millis("slow_consumer_grace_ms", absl::GetFlag(FLAGS_slow_consumer_grace_ms), 0);
  config.send_timeout = millis("send_timeout_ms", absl::GetFlag(FLAGS_send_timeout_ms), 100);
  config.session_queue_max_age =
      millis("session_queue_max_age_ms", absl::GetFlag(FLAGS_session_queue_max_age_ms), 0);
  config.socket_send_buffer_bytes = static_cast<std::size_t>(InRange<int64_t>(
      "socket_send_buffer_bytes", absl::GetFlag(FLAGS_socket_send_buffer_bytes), 0, 1 << 30));
  config.socket_notsent_lowat_bytes = static_cast<std::size_t>(InRange<int64_t>(
      "socket_notsent_lowat_bytes", absl::GetFlag(FLAGS_socket_notsent_lowat_bytes), 0, 1 << 30));
  for (const std::string& origin : absl::GetFlag(FLAGS_allowed_origins)) {
    std::optional<std::string> normalized = obgw::gateway::NormalizeOrigin(origin);
    if (!normalized) {
      Die("--allowed_origins: '" + origin + "' is not an origin (scheme://host[:port], no path)");
    }
    config.allowed_origins.push_back(*std::move(normalized));
  }
  config.allow_missing_origin = absl::GetFlag(FLAGS_allow_missing_origin);
  if (std::string dir = absl::GetFlag(FLAGS_web_root); !dir.empty()) {
    std::optional<std::filesystem::path> root = obgw::gateway::web::ResolveWebRoot(dir);
    if (!root) Die("--web_root: '" + dir + "' is not a directory");
    config.web_root = root->string();
  }
  config.session_ttl = millis("session_ttl_ms", absl::GetFlag(FLAGS_session_ttl_ms), 0);
  config.ping_interval = millis("ping_interval_ms", absl::GetFlag(FLAGS_ping_interval_ms), 0);
  config.idle_timeout = millis("idle_timeout_ms", absl::GetFlag(FLAGS_idle_timeout_ms), 0);
  if (config.idle_timeout.count() > 0 && config.ping_interval.count() > 0 &&
      config.idle_timeout <= config.ping_interval) {
    Die("--idle_timeout_ms must be longer than --ping_interval_ms (a healthy client answers "
        "the ping in between)");
  }
  config.max_connections_per_client = static_cast<std::size_t>(InRange(
      "max_connections_per_client", absl::GetFlag(FLAGS_max_connections_per_client), 1, 1 << 20));
  config.max_connections = static_cast<std::size_t>(
      InRange("max_connections", absl::GetFlag(FLAGS_max_connections), 1, 1 << 24));
  config.max_messages_per_second =
      InRange("max_messages_per_second", absl::GetFlag(FLAGS_max_messages_per_second), 0.1, 1e6);
  config.max_message_burst = static_cast<std::size_t>(
      InRange("max_message_burst", absl::GetFlag(FLAGS_max_message_burst), 1, 1 << 20));
  config.deflate = absl::GetFlag(FLAGS_ws_deflate);
  config.deflate_min_bytes = static_cast<std::size_t>(
      InRange("ws_deflate_min_bytes", absl::GetFlag(FLAGS_ws_deflate_min_bytes), 0, 1 << 26));
  config.deflate_level = InRange("ws_deflate_level", absl::GetFlag(FLAGS_ws_deflate_level), 1, 9);
  config.deflate_client_window_bits = InRange(
      "ws_deflate_client_window_bits", absl::GetFlag(FLAGS_ws_deflate_client_window_bits), 9, 15);
  config.queue_high_water = static_cast<std::size_t>(
      InRange<int64_t>("queue_high_water", absl::GetFlag(FLAGS_queue_high_water), 1, 1LL << 26));
  ConfigureBrowserAuth(config);
  // Publisher auth and per-IP connection rate limit (issue 11, pubauth).
  config.publish_tokens = PublishTokensFromFlags();
  config.connection_rate_per_ip =
      InRange("connection_rate_per_ip", absl::GetFlag(FLAGS_connection_rate_per_ip), 0.0, 1e6);
  config.connection_burst_per_ip = static_cast<std::size_t>(
      InRange("connection_burst_per_ip", absl::GetFlag(FLAGS_connection_burst_per_ip), 1, 1 << 20));
  if (config.connection_rate_per_ip > 0) {
    Notes().Add(spdlog::level::info,
                "connection rate limit: {} new connections/s per peer IP, bursts of {}",
                config.connection_rate_per_ip, config.connection_burst_per_ip);
  }
  return config;
}

// <hostname>:<http_port>:<pid>: unique per process on a host, readable in logs.
std::string DefaultNodeId(std::uint16_t http_port) {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof(host), "node");
  }
  return absl::StrCat(host, ":", http_port, ":", getpid());
}

// --redis_url set: a node of a Redis cluster (exits 2 on a bad URL); empty:
// the default single node (no factory). Sets config.node_id.
obgw::gateway::ClusterFactory ClusterFromFlags(GatewayConfig& config) {
  std::string url = absl::GetFlag(FLAGS_redis_url);
  auto timeout = std::chrono::milliseconds(
      InRange("redis_timeout_ms", absl::GetFlag(FLAGS_redis_timeout_ms), 10, 600000));
  if (url.empty()) return {};
  auto endpoint = obgw::gateway::ParseRedisUrl(url);
  if (!endpoint.ok()) Die("--redis_url: " + std::string(endpoint.status().message()));
  if (std::string password = absl::GetFlag(FLAGS_redis_password); !password.empty()) {
    if (!endpoint->password.empty()) {
      Die("the Redis password is set twice: in --redis_url and --redis_password (keep one)");
    }
    endpoint->password = std::move(password);
  }
  std::string node_id = absl::GetFlag(FLAGS_node_id);
  if (node_id.empty()) node_id = DefaultNodeId(config.http_port);
  for (char c : node_id) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      Die("--node_id may not contain spaces or control characters");
    }
  }
  if (node_id.size() > 256) Die("--node_id is longer than 256 characters");
  config.node_id = node_id;
  Notes().Add(spdlog::level::info, "cluster: node {} on {}", node_id, endpoint->Redacted());
  return obgw::gateway::RedisCluster::Factory(
      {.endpoint = *endpoint,
       .node_id = node_id,
       .timeout = timeout,
       .session_ttl = config.session_ttl,
       .max_connections_per_client = config.max_connections_per_client,
       .http_address = absl::StrCat(config.bind, ":", config.http_port)});
}

// TLS (issue 11): --tls_cert_file with --tls_key_file loads the certificate
// (exits 2 with the reason when half set or unloadable) and sets config.tls;
// neither set: null, plaintext.
std::shared_ptr<obgw::gateway::TlsContext> TlsFromFlags(GatewayConfig& config) {
  config.tls_handshake_timeout = std::chrono::milliseconds(InRange(
      "tls_handshake_timeout_ms", absl::GetFlag(FLAGS_tls_handshake_timeout_ms), 10, 600000));
  std::string cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  std::string key_file = absl::GetFlag(FLAGS_tls_key_file);
  if (cert_file.empty() && key_file.empty()) {
    if (absl::GetFlag(FLAGS_tls_allow_plaintext)) {
      Die("--tls_allow_plaintext needs --tls_cert_file and --tls_key_file");
    }
    return nullptr;
  }
  if (cert_file.empty() || key_file.empty()) {
    Die(absl::StrCat("--", cert_file.empty() ? "tls_key_file" : "tls_cert_file",
                     " is set without --", cert_file.empty() ? "tls_cert_file" : "tls_key_file",
                     ": TLS needs both"));
  }
  auto tls = obgw::gateway::TlsContext::Load(cert_file, key_file);
  if (!tls.ok()) Die(std::string(tls.status().message()));
  std::shared_ptr<obgw::gateway::TlsContext> context = *std::move(tls);
  config.tls_allow_plaintext = absl::GetFlag(FLAGS_tls_allow_plaintext);
  Notes().Add(spdlog::level::info, "TLS: HTTPS/WSS{} and gRPC over TLS with {}",
              config.tls_allow_plaintext ? " (and plaintext HTTP/WS)" : "", context->Describe());
  config.tls = context;
  return context;
}

// SIGHUP: a new TLS context from the same files for new connections, or the
// current one kept (one line says which).
void ReloadTls(obgw::gateway::TlsContext* tls) {
  if (tls == nullptr) {
    spdlog::info("SIGHUP: no TLS configured, nothing to reload");
    return;
  }
  if (absl::Status status = tls->Reload(); !status.ok()) {
    spdlog::warn("SIGHUP: TLS certificate not reloaded, the current one stays: {}",
                 std::string(status.message()));
    return;
  }
  spdlog::info("SIGHUP: TLS certificate reloaded: {}", tls->Describe());
}

// The log tag when --log_tag is not set: "gateway", or "gateway:<node_id>"
// when --node_id is set (and printable; ClusterFromFlags refuses it otherwise).
std::string DefaultLogTag() {
  std::string node_id = absl::GetFlag(FLAGS_node_id);
  if (node_id.empty() || node_id.size() > 100) return "gateway";
  for (char c : node_id) {
    if (c <= ' ' || c > '~') return "gateway";
  }
  return "gateway:" + node_id;
}

// Blocks SIGINT/SIGTERM (and SIGHUP, the TLS reload) in every thread (call
// before starting any), so that the main thread alone receives them through
// sigtimedwait.
sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

}  // namespace

int main(int argc, char** argv) {
  obgw::cli::ParseCommandLine(CommandLine(), argc, argv);
  // The logger first (level, format, tag): it prints the start-up notes.
  if (absl::Status status = obgw::cli::SetUpLoggingFromFlags(DefaultLogTag()); !status.ok()) {
    Die(std::string(status.message()));
  }
  GatewayConfig config = ConfigFromFlags();
  int grpc_port = InRange("grpc_port", absl::GetFlag(FLAGS_grpc_port), 0, 65535);
  int max_levels = InRange("max_levels", absl::GetFlag(FLAGS_max_levels), 1, 100000);
  int receive_window = InRange("grpc_receive_window_bytes",
                               absl::GetFlag(FLAGS_grpc_receive_window_bytes), 0, 1 << 30);
  auto grace = std::chrono::milliseconds(
      InRange("shutdown_grace_ms", absl::GetFlag(FLAGS_shutdown_grace_ms), 0, 600000));
  obgw::gateway::ClusterFactory make_cluster = ClusterFromFlags(config);
  std::shared_ptr<obgw::gateway::TlsContext> tls = TlsFromFlags(config);

  sigset_t signals = BlockShutdownSignals();
  obgw::ingest::IngestStats ingest_stats;
  config.extra_stats = obgw::gateway::BindStats(
      OBGW_DESCRIBE_STATS(obgw::ingest::IngestStats, OBGW_INGEST_STATS), ingest_stats);
  // Log lines dropped by the rate limit, per kind (issue 13, logs).
  for (obgw::gateway::RegisteredStat& stat :
       obgw::gateway::BindStats(OBGW_DESCRIBE_STATS(obgw::gateway::LogStats, OBGW_LOG_KINDS),
                                obgw::gateway::EventLog::Stats())) {
    config.extra_stats.push_back(std::move(stat));
  }
  std::string bind = config.bind;
  std::uint32_t threads = config.threads;
  // The gRPC ingest checks the same publish tokens as POST /broadcast/orderbook.
  std::shared_ptr<const obgw::gateway::PublishTokens> publish_tokens = config.publish_tokens;

  Gateway gateway(std::move(config), make_cluster);
  obgw::ingest::ValidationLimits limits;
  limits.max_levels = static_cast<std::size_t>(max_levels);
  obgw::ingest::IngestServer ingest(gateway.queue(), ingest_stats, limits, receive_window,
                                    publish_tokens);
  // gRPC tooling (issue 13, grpc): reflection, and grpc.health.v1 following
  // GET /health (SERVING while healthy, NOT_SERVING while degraded and from
  // the shutdown on). `ingest` outlives the check: gateway.Stop ends it.
  ingest.set_reflection(absl::GetFlag(FLAGS_grpc_reflection));
  // Every change is logged: at warn / info, or at debug when the queue's
  // high-water mark is the reason, before or after (a flooded queue flaps
  // around it, up to 10 changes a second; /metrics shows the depth).
  // Shard 0's thread only.
  gateway.WatchHealth(
      [&ingest, previous = std::string()](const obgw::gateway::Health& health) mutable {
        ingest.SetServing(health.healthy());
        constexpr const char* queue_reason = "queue at";
        bool flapping = absl::StartsWith(previous, queue_reason) ||
                        absl::StartsWith(health.degraded_reason, queue_reason);
        if (!health.healthy()) {
          obgw::gateway::LogEvent(
              obgw::gateway::LogKind::health, flapping ? spdlog::level::debug : spdlog::level::warn,
              "health_degraded", [&](obgw::gateway::LogFields& line) {
                line.Add("reason", health.degraded_reason).Add("grpc_health", "NOT_SERVING");
              });
        } else {
          obgw::gateway::LogEvent(
              obgw::gateway::LogKind::health, flapping ? spdlog::level::debug : spdlog::level::info,
              "health_healthy",
              [](obgw::gateway::LogFields& line) { line.Add("grpc_health", "SERVING"); });
        }
        previous = health.degraded_reason;
      });
  if (auto status = gateway.Start(); !status.ok()) Die(std::string(status.message()));
  auto bound_grpc =
      ingest.Start(bind, grpc_port,
                   tls ? obgw::ingest::TlsServerCredentialsFromFiles(
                             absl::GetFlag(FLAGS_tls_cert_file), absl::GetFlag(FLAGS_tls_key_file))
                       : nullptr);
  if (!bound_grpc.ok()) {
    gateway.Stop(std::chrono::milliseconds(0));
    Die(std::string(bound_grpc.status().message()));
  }

  Notes().Log();
  spdlog::info("serving: {} I/O threads, HTTP+WebSocket on {}:{}, gRPC on {}:{}", threads, bind,
               gateway.http_port(), bind, *bound_grpc);
  // The ready line: scripts and tests wait for it to learn the ports.
  std::printf("orderbook-gateway ready http=%s:%u grpc=%s:%d\n", bind.c_str(), gateway.http_port(),
              bind.c_str(), *bound_grpc);
  std::fflush(stdout);

  int signal = 0;
  for (;;) {
    // Woken every second to write the rate-limited log lines' summaries.
    const timespec second{.tv_sec = 1, .tv_nsec = 0};
    signal = sigtimedwait(&signals, nullptr, &second);
    obgw::gateway::EventLog::FlushSuppressed();
    if (signal < 0) continue;  // Timeout (or EINTR).
    if (signal != SIGHUP) break;
    ReloadTls(tls.get());
  }
  spdlog::info("signal {}: shutting down", signal);
  auto started = std::chrono::steady_clock::now();
  // No new connections anywhere (gRPC's Shutdown refuses new streams).
  gateway.StopAccepting();
  // gRPC next: open streams may end on their own within the grace period,
  // and their books still reach the subscribers (the hub keeps routing);
  // streams still open at the deadline are cancelled.
  ingest.Shutdown(grace);
  // Then every WebSocket gets 1001 and the grace period to answer it.
  gateway.Stop(grace);
  spdlog::info("stopped in {} ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now() - started)
                                       .count());
  obgw::gateway::EventLog::FlushSuppressed();
  spdlog::info("stopped");
  return 0;
}
