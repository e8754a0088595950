#include "gateway/logging/event_log.h"

#include <memory>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

namespace obgw::gateway {
namespace {

using ::testing::HasSubstr;

// spdlog's default logger, printing "<level> <message>" into a string, for
// one test.
class CapturedLog {
 public:
  CapturedLog() {
    auto logger = std::make_shared<spdlog::logger>(
        "test", std::make_shared<spdlog::sinks::ostream_sink_st>(out_));
    logger->set_pattern("%l %v");
    logger->set_level(spdlog::level::trace);
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() {
    spdlog::set_default_logger(previous_);
    EventLog::Configure(0, 1);
  }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(EventLogTest, TextIsTheEventThenKeyValuePairs) {
  LogFields fields;
  fields.Add("client_id", "trader-1")
      .AddPeer("peer", "10.0.0.7", 51234)
      .AddPeer("peer6", "::1", 443)
      .Add("shard", 3)
      .Add("tls", false)
      .Add("seconds", 1.5)
      .Add("sent", std::uint64_t{42});
  EXPECT_EQ(EventLog::RenderText("ws_opened", fields),
            "ws_opened client_id=trader-1 peer=10.0.0.7:51234 peer6=[::1]:443 shard=3 tls=false "
            "seconds=1.5 sent=42");
}

// A client-chosen value cannot end the line, start a field or hide a quote.
TEST(EventLogTest, ValuesThatCouldForgeALineAreQuotedAndEscaped) {
  LogFields fields;
  fields.Add("reason", "bye\n[info] ws_opened client_id=admin")
      .Add("empty", "")
      .Add("quote", "a \"b\" c\\d")
      .Add("control", std::string("x\x01y\ty", 5))
      .Add("equals", "a=b");
  EXPECT_EQ(EventLog::RenderText("ws_closed", fields),
            "ws_closed reason=\"bye\\n[info] ws_opened client_id=admin\" empty=\"\" "
            "quote=\"a \\\"b\\\" c\\\\d\" control=\"x\\x01y\\ty\" equals=\"a=b\"");
}

TEST(EventLogTest, LogEventWritesAtItsLevelAndSkipsFieldsWhenTheLevelIsOff) {
  CapturedLog log;
  EventLog::Configure(0, 1);
  LogEvent(LogKind::ws_rejected, spdlog::level::warn, "ws_rejected",
           [](LogFields& line) { line.Add("code", "rate_limited"); });
  spdlog::set_level(spdlog::level::err);
  bool filled = false;
  LogEvent(LogKind::ws_rejected, spdlog::level::warn, "ws_rejected",
           [&](LogFields&) { filled = true; });
  spdlog::set_level(spdlog::level::trace);
  EXPECT_FALSE(filled);
  EXPECT_EQ(log.text(), "warning ws_rejected code=rate_limited\n");
}

// Over the limit: lines are dropped without building their fields, counted
// per kind, and summed up in one line; other kinds keep their own budget.
TEST(EventLogTest, AFloodIsCountedAndSummedUp) {
  CapturedLog log;
  EventLog::Configure(/*per_second=*/0.001, /*burst=*/2);
  const std::uint64_t before = EventLog::Stats().http_rejected.load();
  int filled = 0;
  for (int i = 0; i < 10; ++i) {
    LogEvent(LogKind::http_rejected, spdlog::level::warn, "http_rejected",
             [&](LogFields& line) { line.Add("n", ++filled); });
  }
  LogEvent(LogKind::redis, spdlog::level::info, "redis_up",
           [](LogFields& line) { line.Add("connection", "commands"); });
  EXPECT_EQ(filled, 2);
  EXPECT_EQ(EventLog::Stats().http_rejected.load() - before, 8u);
  EventLog::FlushSuppressed();
  const std::string text = log.text();
  EXPECT_THAT(text, HasSubstr("warning http_rejected n=1\nwarning http_rejected n=2\n"));
  EXPECT_THAT(text, HasSubstr("info redis_up connection=commands\n"));
  EXPECT_THAT(text, HasSubstr("warning suppressed 8 http_rejected lines in the last "));
  // Flushed once: a second flush has nothing to say.
  EventLog::FlushSuppressed();
  EXPECT_EQ(log.text(), text);
}

TEST(EventLogTest, KindNamesComeFromTheList) {
  EXPECT_EQ(LogKindName(LogKind::ws_connection), "ws_connection");
  EXPECT_EQ(LogKindName(LogKind::redis), "redis");
  EXPECT_EQ(LogKindName(LogKind::health), "health");
  EXPECT_EQ(kLogKindCount, 7u);
}

}  // namespace
}  // namespace obgw::gateway
