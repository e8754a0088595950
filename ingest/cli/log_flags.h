#ifndef OBGW_INGEST_CLI_LOG_FLAGS_H_
#define OBGW_INGEST_CLI_LOG_FLAGS_H_

#include <string_view>

#include <absl/status/status.h>

#include "ingest/cli/command_line.h"

namespace obgw::cli {

// The logging flags every long-running program takes, declared once here:
// --log_level, --log_format (text|json), --log_tag, --log_lines_per_second,
// --log_burst; under the --help heading "Logging".
FlagGroup LoggingFlags();

// Sets spdlog's default logger up from those flags (gateway/logging/
// log_setup.h); `default_tag` names the process when --log_tag is empty.
// Main thread, after ParseCommandLine and before other threads log. An
// error names the flag (the program exits 2 with it).
absl::Status SetUpLoggingFromFlags(std::string_view default_tag);

}  // namespace obgw::cli

#endif  // OBGW_INGEST_CLI_LOG_FLAGS_H_
