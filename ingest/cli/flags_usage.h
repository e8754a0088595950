#ifndef OBGW_INGEST_CLI_FLAGS_USAGE_H_
#define OBGW_INGEST_CLI_FLAGS_USAGE_H_

#include <string>
#include <string_view>

#include <absl/flags/usage_config.h>
#include <absl/strings/match.h>

namespace obgw {

// Makes --help list the flags defined in the file whose path ends with
// `main_file`. Abseil's default matches flag files against the program name,
// and our programs' names have dashes ("orderbook-gateway"), so without this
// --help lists no flag at all. Call before absl::ParseCommandLine.
inline void HelpListsFlagsOf(std::string_view main_file) {
  absl::FlagsUsageConfig usage_config;
  usage_config.contains_help_flags = [file = std::string(main_file)](absl::string_view path) {
    return absl::EndsWith(path, file);
  };
  usage_config.contains_helpshort_flags = usage_config.contains_help_flags;
  absl::SetFlagsUsageConfig(usage_config);
}

}  // namespace obgw

#endif  // OBGW_INGEST_CLI_FLAGS_USAGE_H_
