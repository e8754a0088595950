#ifndef OBGW_GATEWAY_LOGGING_LOG_KINDS_H_
#define OBGW_GATEWAY_LOGGING_LOG_KINDS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gateway/metrics/stat_declaration.h"

// The kinds of event line (docs/operations.md "Logs"), each rate limited on
// its own (--log_lines_per_second, --log_burst). The one list of kinds, in
// the stat-list shape (gateway/metrics/stat_declaration.h): each kind is the
// counter of the lines its limit dropped (/metrics
// obgw_log_lines_suppressed_total{kind="..."}, /stats log_suppressed.<kind>);
// the LogKind enum and LogKindName come from it too.
#define OBGW_LOG_KINDS(COUNTER, GAUGE)                                                    \
  COUNTER(ws_connection, "log_suppressed.ws_connection", "log_lines_suppressed",          \
          "kind=\"ws_connection\"",                                                       \
          "Log lines dropped by their kind's rate limit (--log_lines_per_second, "        \
          "--log_burst), by kind: WebSocket opened and closed")                           \
  COUNTER(ws_rejected, "log_suppressed.ws_rejected", "log_lines_suppressed",              \
          "kind=\"ws_rejected\"", "Log lines dropped: WebSocket client messages refused") \
  COUNTER(http_rejected, "log_suppressed.http_rejected", "log_lines_suppressed",          \
          "kind=\"http_rejected\"",                                                       \
          "Log lines dropped: HTTP requests and WebSocket upgrades refused")              \
  COUNTER(grpc_stream, "log_suppressed.grpc_stream", "log_lines_suppressed",              \
          "kind=\"grpc_stream\"", "Log lines dropped: gRPC streams opened and closed")    \
  COUNTER(grpc_rejected, "log_suppressed.grpc_rejected", "log_lines_suppressed",          \
          "kind=\"grpc_rejected\"", "Log lines dropped: gRPC calls and books refused")    \
  COUNTER(redis, "log_suppressed.redis", "log_lines_suppressed", "kind=\"redis\"",        \
          "Log lines dropped: Redis connection and cluster state changes")                \
  COUNTER(health, "log_suppressed.health", "log_lines_suppressed", "kind=\"health\"",     \
          "Log lines dropped: node health changes (GET /health, gRPC health)")

namespace obgw::gateway {

// One per entry of OBGW_LOG_KINDS, named like its member (generated, hence
// not kCamelCase): LogKind::ws_connection.
enum class LogKind : std::uint8_t {
#define OBGW_LOG_KIND_ENUMERATOR_(member, ...) member,
  OBGW_LOG_KINDS(OBGW_LOG_KIND_ENUMERATOR_, OBGW_LOG_KIND_ENUMERATOR_)
#undef OBGW_LOG_KIND_ENUMERATOR_
};

inline constexpr std::size_t kLogKindCount = 0
#define OBGW_LOG_KIND_ONE_(...) +1
    OBGW_LOG_KINDS(OBGW_LOG_KIND_ONE_, OBGW_LOG_KIND_ONE_)
#undef OBGW_LOG_KIND_ONE_
    ;

// "ws_connection": the kind's name in summaries and labels.
constexpr std::string_view LogKindName(LogKind kind) {
  constexpr std::string_view kNames[] = {
#define OBGW_LOG_KIND_NAME_(member, ...) #member,
      OBGW_LOG_KINDS(OBGW_LOG_KIND_NAME_, OBGW_LOG_KIND_NAME_)
#undef OBGW_LOG_KIND_NAME_
  };
  return kNames[static_cast<std::size_t>(kind)];
}

// The log's own counters (one process-wide instance, EventLog::Stats()):
// written by whichever thread drops a line (relaxed atomics), read by
// /stats and /metrics from any thread.
struct LogStats {
  OBGW_LOG_KINDS(OBGW_STAT_MEMBER, OBGW_STAT_MEMBER)
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_LOGGING_LOG_KINDS_H_
