#ifndef OBGW_GATEWAY_LOGGING_EVENT_LOG_H_
#define OBGW_GATEWAY_LOGGING_EVENT_LOG_H_

#include <chrono>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <spdlog/spdlog.h>

#include "gateway/logging/log_kinds.h"

namespace obgw::gateway {

// The fields of one event line, in order: a key (a string literal: it is
// kept as a view) and a value (strings are copied). Built only for a line
// that is written (LogEvent), on the thread that logs it.
class LogFields {
 public:
  using Value = std::variant<std::string, std::int64_t, std::uint64_t, double, bool>;
  struct Field {
    std::string_view key;
    Value value;
  };

  LogFields& Add(std::string_view key, std::string_view value) {
    fields_.push_back({key, std::string(value)});
    return *this;
  }
  LogFields& Add(std::string_view key, const char* value) {
    return Add(key, std::string_view(value));
  }
  LogFields& Add(std::string_view key, const std::string& value) {
    return Add(key, std::string_view(value));
  }
  LogFields& Add(std::string_view key, bool value) {
    fields_.push_back({key, value});
    return *this;
  }
  LogFields& Add(std::string_view key, double value) {
    fields_.push_back({key, value});
    return *this;
  }
  template <std::integral T>
  requires(!std::same_as<T, bool>) LogFields& Add(std::string_view key, T value) {
    if constexpr (std::is_signed_v<T>) {
      fields_.push_back({key, static_cast<std::int64_t>(value)});
    } else {
      fields_.push_back({key, static_cast<std::uint64_t>(value)});
    }
    return *this;
  }
  // A peer's address and port: "10.0.0.7:51234", "[::1]:51234".
  LogFields& AddPeer(std::string_view key, const std::string& address, std::uint16_t port) {
    const bool v6 = address.find(':') != std::string::npos;
    return Add(key, (v6 ? "[" + address + "]:" : address + ":") + std::to_string(port));
  }
  // A duration in milliseconds.
  template <typename Rep, typename Period>
  LogFields& AddMillis(std::string_view key, std::chrono::duration<Rep, Period> duration) {
    return Add(key, std::chrono::duration_cast<std::chrono::milliseconds>(duration).count());
  }

  const std::vector<Field>& fields() const { return fields_; }

 private:
  std::vector<Field> fields_;
};

// An event being written: what the JSON formatter (json_formatter.h) turns
// into keys. Set for the duration of the spdlog call on the logging thread
// only (spdlog's loggers here are synchronous), null otherwise.
struct LogEventLine {
  std::string_view event;
  const LogFields* fields = nullptr;
};
const LogEventLine* CurrentLogEvent();

// The event log: one line per event that matters, on spdlog's default
// logger (text: "<event> key=value ...", JSON: the fields as keys), each
// kind rate limited (LineLimiter; refusals counted in Stats() and summed
// up in one "suppressed N <kind> lines in the last T s" line at warn).
// Process-wide state, like spdlog's default logger: Configure once at start
// (main thread, before other threads log); everything else is thread-safe,
// lock-free up to spdlog's sink.
class EventLog {
 public:
  // Every kind: `per_second` lines per second (<= 0: unlimited), bursts of
  // `burst`.
  static void Configure(double per_second, double burst);

  static LogStats& Stats();

  // The steady clock the limits read, in nanoseconds.
  static std::int64_t NowNs();

  // Whether a line of `kind` may be written now (refused: counted). When it
  // may and lines were refused at least 1 s ago, writes their summary first.
  static bool Admit(LogKind kind);

  // Writes `fields` of event `event` at `level` (no limit, no level check).
  // `text`, when not empty, is the message of the text format instead of
  // "<event> key=value ...".
  static void Write(spdlog::level::level_enum level, std::string_view event,
                    const LogFields& fields, std::string_view text = {});

  // Writes the summary of every kind with refused lines (the main loop calls
  // it every second, and at the end).
  static void FlushSuppressed();

  // The text format's rendering: `event` then each field as key=value,
  // values quoted (with \" \\ \n \r \t \xNN escapes) when they hold a space,
  // a quote, '=', a control byte or nothing, so that no client-chosen value
  // can forge a line or a field.
  static std::string RenderText(std::string_view event, const LogFields& fields);

 private:
  static void WriteSummary(LogKind kind, std::uint64_t lines, std::int64_t since_ns,
                           std::int64_t now_ns);
};

// Logs event `event` of `kind` at `level` if the level is on and the kind's
// limit allows a line now; `fill(LogFields&)` adds the fields, called only
// then (so a refused line costs a level check and a compare-and-swap).
template <typename Fill>
void LogEvent(LogKind kind, spdlog::level::level_enum level, std::string_view event, Fill&& fill) {
  if (!spdlog::should_log(level) || !EventLog::Admit(kind)) return;
  LogFields fields;
  std::forward<Fill>(fill)(fields);
  EventLog::Write(level, event, fields);
}

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_LOGGING_EVENT_LOG_H_
