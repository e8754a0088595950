#include "gateway/logging/json_formatter.h"

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "gateway/logging/event_log.h"

namespace obgw::gateway {
namespace {

// spdlog's default logger with the JSON formatter, into a string.
class JsonLog {
 public:
  JsonLog() {
    logger_ = std::make_shared<spdlog::logger>(
        "json", std::make_shared<spdlog::sinks::ostream_sink_st>(out_));
    logger_->set_formatter(std::make_unique<JsonLineFormatter>("gateway:node-a"));
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(logger_);
  }
  ~JsonLog() { spdlog::set_default_logger(previous_); }
  spdlog::logger& logger() { return *logger_; }
  // Each line parsed; a line that is not a JSON object fails the test.
  std::vector<boost::json::object> Lines() const {
    std::vector<boost::json::object> lines;
    std::istringstream in(out_.str());
    std::string line;
    while (std::getline(in, line)) {
      boost::system::error_code ec;
      boost::json::value value = boost::json::parse(line, ec);
      EXPECT_FALSE(ec) << line;
      EXPECT_TRUE(value.is_object()) << line;
      if (value.is_object()) lines.push_back(value.as_object());
    }
    return lines;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(JsonFormatterTest, AnEventsFieldsAreKeysOfTheirOwn) {
  JsonLog log;
  LogFields fields;
  fields.Add("client_id", "trader-1")
      .Add("shard", 2)
      .Add("tls", true)
      .Add("code", std::uint64_t{1000})
      .Add("seconds", 0.25);
  EventLog::Write(spdlog::level::info, "ws_closed", fields);
  std::vector<boost::json::object> lines = log.Lines();
  ASSERT_EQ(lines.size(), 1u);
  const boost::json::object& line = lines[0];
  // The fixed keys first, in this order, then the fields.
  std::vector<std::string> keys;
  for (const auto& entry : line) keys.emplace_back(entry.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"ts", "level", "tag", "event", "client_id", "shard",
                                            "tls", "code", "seconds"}));
  EXPECT_EQ(line.at("level"), "info");
  EXPECT_EQ(line.at("tag"), "gateway:node-a");
  EXPECT_EQ(line.at("event"), "ws_closed");
  EXPECT_EQ(line.at("client_id"), "trader-1");
  EXPECT_EQ(line.at("shard").as_int64(), 2);
  EXPECT_EQ(line.at("tls").as_bool(), true);
  EXPECT_EQ(line.at("code").to_number<std::int64_t>(), 1000);
  EXPECT_DOUBLE_EQ(line.at("seconds").as_double(), 0.25);
  // UTC, microseconds: 2026-12-03T05:40:00.123456Z.
  const std::string ts(line.at("ts").as_string());
  ASSERT_EQ(ts.size(), 27u) << ts;
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts.back(), 'Z');
}

TEST(JsonFormatterTest, APlainLineIsEventLogWithItsMessage) {
  JsonLog log;
  log.logger().warn("serving: {} \"quoted\"\nand a second line", 2);
  std::vector<boost::json::object> lines = log.Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("level"), "warning");
  EXPECT_EQ(lines[0].at("event"), "log");
  EXPECT_EQ(lines[0].at("msg"), "serving: 2 \"quoted\"\nand a second line");
}

// Bytes a client chose (a close reason, a symbol) may not be UTF-8: the line
// still parses.
TEST(JsonFormatterTest, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  JsonLog log;
  LogFields fields;
  fields.Add("reason", std::string("ok \xC3\xA9 bad \xFF\xC3 end"));
  EventLog::Write(spdlog::level::info, "ws_closed", fields);
  log.logger().info("raw \xED\xA0\x80 surrogate");
  std::vector<boost::json::object> lines = log.Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("reason"), "ok \xC3\xA9 bad \xEF\xBF\xBD\xEF\xBF\xBD end");
  EXPECT_EQ(lines[1].at("msg"), "raw \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD surrogate");
}

TEST(JsonFormatterTest, ValidUtf8KeepsValidText) {
  EXPECT_EQ(ValidUtf8("plain"), "plain");
  EXPECT_EQ(ValidUtf8("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(ValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // Overlong '/'.
}

}  // namespace
}  // namespace obgw::gateway
