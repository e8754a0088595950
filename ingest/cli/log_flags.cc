#include "ingest/cli/log_flags.h"

#include <string>

#include <absl/flags/flag.h>

#include "gateway/logging/log_setup.h"

ABSL_FLAG(std::string, log_level, "info", "trace, debug, info, warn, error.");
ABSL_FLAG(std::string, log_format, "text",
          "text (one human-readable line per event) or json (one JSON object per line: ts, "
          "level, tag, event and the event's fields).");
ABSL_FLAG(std::string, log_tag, "",
          "Names this process on every log line; default the program's short name, with "
          ":<node_id> when --node_id is set (gateway:node-a).");
ABSL_FLAG(double, log_lines_per_second, 10,
          "Event lines per second each kind of event (WebSocket connections, rejected "
          "requests, gRPC streams...) may write; more are counted and summed up in one "
          "'suppressed N lines' line. 0 = unlimited.");
ABSL_FLAG(int32_t, log_burst, 100,
          "Event lines of one kind written at once before --log_lines_per_second applies.");

namespace obgw::cli {

FlagGroup LoggingFlags() {
  return {"Logging", Flags(FLAGS_log_level, FLAGS_log_format, FLAGS_log_tag,
                           FLAGS_log_lines_per_second, FLAGS_log_burst)};
}

absl::Status SetUpLoggingFromFlags(std::string_view default_tag) {
  gateway::LogOptions options;
  options.level = absl::GetFlag(FLAGS_log_level);
  options.format = absl::GetFlag(FLAGS_log_format);
  options.tag = absl::GetFlag(FLAGS_log_tag);
  if (options.tag.empty()) options.tag = std::string(default_tag);
  options.lines_per_second = absl::GetFlag(FLAGS_log_lines_per_second);
  options.burst = absl::GetFlag(FLAGS_log_burst);
  return gateway::SetUpLogging(options);
}

}  // namespace obgw::cli
