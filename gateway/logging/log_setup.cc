#include "gateway/logging/log_setup.h"

#include <memory>

#include <absl/strings/str_cat.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "gateway/logging/event_log.h"
#include "gateway/logging/json_formatter.h"

namespace obgw::gateway {

absl::Status SetUpLogging(const LogOptions& options) {
  const spdlog::level::level_enum level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off") {
    return absl::InvalidArgumentError(
        absl::StrCat("--log_level='", options.level, "' is not a log level"));
  }
  if (options.format != "text" && options.format != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("--log_format='", options.format, "' is not text or json"));
  }
  if (options.tag.empty() || options.tag.size() > 128) {
    return absl::InvalidArgumentError("--log_tag must be 1 to 128 characters");
  }
  for (char c : options.tag) {
    if (c <= ' ' || c > '~') {
      return absl::InvalidArgumentError(
          "--log_tag may hold visible ASCII characters only (no spaces)");
    }
  }
  if (!(options.lines_per_second >= 0) || options.lines_per_second > 1e6) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--log_lines_per_second=", options.lines_per_second, " is out of range [0, 1e6]"));
  }
  if (!(options.burst >= 1) || options.burst > 1e6) {
    return absl::InvalidArgumentError(
        absl::StrCat("--log_burst=", options.burst, " is out of range [1, 1e6]"));
  }
  std::shared_ptr<spdlog::logger> logger;
  if (options.format == "json") {
    // No colours: escape codes would break the JSON.
    logger = std::make_shared<spdlog::logger>(options.tag,
                                              std::make_shared<spdlog::sinks::stdout_sink_mt>());
    logger->set_formatter(std::make_unique<JsonLineFormatter>(options.tag));
  } else {
    logger = std::make_shared<spdlog::logger>(
        options.tag, std::make_shared<spdlog::sinks::stdout_color_sink_mt>());
    // spdlog's default pattern with the tag (the logger's name) after the time.
    logger->set_formatter(
        std::make_unique<spdlog::pattern_formatter>("[%Y-%m-%d %H:%M:%S.%e] [%n] [%^%l%$] %v"));
  }
  logger->set_level(level);
  spdlog::set_default_logger(std::move(logger));
  spdlog::set_level(level);
  EventLog::Configure(options.lines_per_second, options.burst);
  return absl::OkStatus();
}

}  // namespace obgw::gateway
