#ifndef OBGW_GATEWAY_LOGGING_LOG_SETUP_H_
#define OBGW_GATEWAY_LOGGING_LOG_SETUP_H_

#include <string>

#include <absl/status/status.h>

namespace obgw::gateway {

// How a program logs (the flags of ingest/cli/log_flags.h).
struct LogOptions {
  std::string level = "info";   // spdlog's names: trace ... off.
  std::string format = "text";  // "text" or "json".
  // Names the process on every line ("gateway", "gateway:node-a", "feed"):
  // 1 to 128 visible ASCII characters.
  std::string tag;
  double lines_per_second = 10;  // Per kind of event line; 0 = unlimited.
  double burst = 100;
};

// Replaces spdlog's default logger with one on stdout that prints `options`:
// text ("[2026-12-03 05:40:00.123] [gateway] [info] ws_opened client_id=..."
// in local time, coloured on a terminal) or JSON lines (JsonLineFormatter),
// at `options.level`, and sets the event log's limits. Main thread, before
// other threads log. InvalidArgument naming the flag when a value is bad,
// and nothing changes.
absl::Status SetUpLogging(const LogOptions& options);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_LOGGING_LOG_SETUP_H_
