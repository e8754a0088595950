#include "gateway/logging/event_log.h"

#include <array>
#include <cstdio>

#include <fmt/format.h>

#include "gateway/logging/line_limiter.h"

namespace obgw::gateway {
namespace {

// A summary waits this long after the first refused line, so that a flood
// gives one summary per kind per second, not one per admitted line.
constexpr std::int64_t kSummaryDelayNs = 1'000'000'000;

struct EventLogState {
  std::array<LineLimiter, kLogKindCount> limiters;
  LogStats stats;
};

EventLogState& State() {
  static EventLogState state;
  return state;
}

thread_local const LogEventLine* current_event = nullptr;

bool NeedsQuotes(std::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= ' ' || byte == 0x7f || c == '"' || c == '=' || c == '\\') return true;
  }
  return false;
}

void AppendQuoted(std::string& out, std::string_view value) {
  out.push_back('"');
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < ' ' || byte == 0x7f) {
          char escaped[5];
          std::snprintf(escaped, sizeof(escaped), "\\x%02x", byte);
          out += escaped;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

const LogEventLine* CurrentLogEvent() { return current_event; }

void EventLog::Configure(double per_second, double burst) {
  for (LineLimiter& limiter : State().limiters) limiter.Configure(per_second, burst);
}

LogStats& EventLog::Stats() { return State().stats; }

std::int64_t EventLog::NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool EventLog::Admit(LogKind kind) {
  EventLogState& state = State();
  LineLimiter& limiter = state.limiters[static_cast<std::size_t>(kind)];
  const std::int64_t now = NowNs();
  if (!limiter.Take(now)) {
    // The counter of this kind: the list's members are in LogKind order.
    static constexpr Counter LogStats::*kCounters[] = {
#define OBGW_LOG_KIND_MEMBER_(member, ...) &LogStats::member,
        OBGW_LOG_KINDS(OBGW_LOG_KIND_MEMBER_, OBGW_LOG_KIND_MEMBER_)
#undef OBGW_LOG_KIND_MEMBER_
    };
    (state.stats.*kCounters[static_cast<std::size_t>(kind)])
        .fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (LineLimiter::Suppressed suppressed = limiter.TakeSuppressed(now, kSummaryDelayNs);
      suppressed.lines > 0) {
    WriteSummary(kind, suppressed.lines, suppressed.since_ns, now);
  }
  return true;
}

void EventLog::FlushSuppressed() {
  const std::int64_t now = NowNs();
  for (std::size_t i = 0; i < kLogKindCount; ++i) {
    LineLimiter::Suppressed suppressed = State().limiters[i].TakeSuppressed(now, 0);
    if (suppressed.lines > 0) {
      WriteSummary(static_cast<LogKind>(i), suppressed.lines, suppressed.since_ns, now);
    }
  }
}

void EventLog::WriteSummary(LogKind kind, std::uint64_t lines, std::int64_t since_ns,
                            std::int64_t now_ns) {
  if (!spdlog::should_log(spdlog::level::warn)) return;
  const double seconds = static_cast<double>(now_ns - since_ns) / 1e9;
  LogFields fields;
  fields.Add("kind", LogKindName(kind)).Add("lines", lines).Add("seconds", seconds);
  Write(spdlog::level::warn, "log_suppressed", fields,
        fmt::format("suppressed {} {} lines in the last {:.1f} s (--log_lines_per_second)", lines,
                    LogKindName(kind), seconds));
}

void EventLog::Write(spdlog::level::level_enum level, std::string_view event,
                     const LogFields& fields, std::string_view text) {
  LogEventLine line{event, &fields};
  std::string rendered;
  if (text.empty()) {
    rendered = RenderText(event, fields);
    text = rendered;
  }
  current_event = &line;
  spdlog::default_logger_raw()->log(level, "{}", text);
  current_event = nullptr;
}

std::string EventLog::RenderText(std::string_view event, const LogFields& fields) {
  std::string out(event);
  for (const LogFields::Field& field : fields.fields()) {
    out.push_back(' ');
    out.append(field.key);
    out.push_back('=');
    std::visit(
        [&out](const auto& value) {
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, std::string>) {
            if (NeedsQuotes(value)) {
              AppendQuoted(out, value);
            } else {
              out.append(value);
            }
          } else if constexpr (std::is_same_v<T, bool>) {
            out.append(value ? "true" : "false");
          } else if constexpr (std::is_same_v<T, double>) {
            out.append(fmt::format("{:g}", value));
          } else {
            out.append(fmt::format("{}", value));
          }
        },
        field.value);
  }
  return out;
}

}  // namespace obgw::gateway
