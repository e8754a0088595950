#ifndef OBGW_GATEWAY_LOGGING_JSON_FORMATTER_H_
#define OBGW_GATEWAY_LOGGING_JSON_FORMATTER_H_

#include <memory>
#include <string>

#include <spdlog/formatter.h>

namespace obgw::gateway {

// --log_format=json: each line one JSON object (JSON Lines),
//   {"ts":"2026-12-03T05:40:00.123456Z","level":"info","tag":"gateway",
//    "event":"ws_opened","client_id":"trader-1",...}
// An event's fields (EventLog, CurrentLogEvent) become keys of their own,
// after "ts", "level", "tag" and "event"; a plain spdlog line is
// "event":"log" with its text in "msg". Strings are escaped by Boost.JSON;
// bytes that are not UTF-8 become U+FFFD, so that every line parses.
//
// Owns its tag. spdlog calls format from the logging thread under the
// sink's lock; the formatter keeps no state between lines.
class JsonLineFormatter final : public spdlog::formatter {
 public:
  explicit JsonLineFormatter(std::string tag) : tag_(std::move(tag)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>(tag_);
  }

 private:
  std::string tag_;
};

// `text` with every byte sequence that is not UTF-8 replaced by U+FFFD.
std::string ValidUtf8(std::string_view text);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_LOGGING_JSON_FORMATTER_H_
