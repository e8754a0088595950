#ifndef OBGW_TESTS_INTEGRATION_TEST_UTIL_H_
#define OBGW_TESTS_INTEGRATION_TEST_UTIL_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "http_test_client.h"

namespace obgw::testing {

// The legacy reply to a successful publish:
// 200 {"status":"success","symbol":symbol,"subscribers":subscribers}.
inline ::testing::AssertionResult IsBroadcastSuccess(const HttpResponse& response,
                                                     std::string_view symbol,
                                                     std::int64_t subscribers) {
  if (response.status != 200) return ::testing::AssertionFailure() << response.Describe();
  boost::json::value reply = response.Json();
  const boost::json::object* object = reply.if_object();
  auto string_at = [object](std::string_view key) {
    const boost::json::value* value = object ? object->if_contains(key) : nullptr;
    const boost::json::string* text = value ? value->if_string() : nullptr;
    return text ? std::string_view(*text) : std::string_view();
  };
  if (string_at("status") != "success" || string_at("symbol") != symbol ||
      FindInt(reply, "subscribers") != subscribers) {
    return ::testing::AssertionFailure() << "expected success for " << symbol << " with "
                                         << subscribers << " subscribers: " << response.Describe();
  }
  return ::testing::AssertionSuccess();
}

// An error body: {"detail":"<text>","code":"<code>"}.
inline void ExpectErrorBody(const HttpResponse& response, std::string_view code) {
  boost::json::value body = response.Json();
  ASSERT_TRUE(body.is_object()) << response.Describe();
  const boost::json::value* c = body.as_object().if_contains("code");
  ASSERT_NE(c, nullptr) << response.Describe();
  EXPECT_EQ(*c, boost::json::value(code)) << response.Describe();
  const boost::json::value* detail = body.as_object().if_contains("detail");
  ASSERT_NE(detail, nullptr) << response.Describe();
  ASSERT_TRUE(detail->is_string()) << response.Describe();
  EXPECT_FALSE(detail->as_string().empty()) << response.Describe();
}

// The body of the guide's own curl example (its "Test broadcast endpoint").
inline constexpr std::string_view kGuideBody =
    R"({"bids":[],"asks":[],"timestamp":"2024-01-01T12:00:00Z"})";

// Polls GET /stats until the integer at `path` equals `expected` or `timeout`
// passes; returns the last stats seen (counters may lag an action by a hop
// between threads, never by more).
inline boost::json::value WaitForStat(int port, std::string_view path, std::int64_t expected,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  boost::json::value stats;
  for (;;) {
    stats = GetStats(port);
    std::optional<std::int64_t> value = FindInt(stats, path);
    if (value && *value == expected) return stats;
    if (std::chrono::steady_clock::now() >= deadline) return stats;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Milliseconds since the Unix epoch, now.
inline std::int64_t NowUnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::string Str(const boost::json::value& value) { return boost::json::serialize(value); }

// The value at `key` of a server message, or null when absent (never throws).
inline boost::json::value Field(const boost::json::object& message, std::string_view key) {
  const boost::json::value* value = message.if_contains(key);
  return value != nullptr ? *value : boost::json::value();
}

// A server message's "type", or "" when it has none.
inline std::string TypeOf(const boost::json::object& message) {
  const boost::json::value* type = message.if_contains("type");
  return type != nullptr && type->is_string() ? std::string(type->as_string()) : std::string();
}

// Resident set size of process `pid` in KiB (VmRSS in /proc/<pid>/status);
// -1 when it cannot be read.
inline std::int64_t ReadVmRssKib(int pid) {
  std::FILE* file = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (file == nullptr) return -1;
  char line[256];
  std::int64_t kib = -1;
  while (std::fgets(line, sizeof line, file) != nullptr) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) {
      kib = std::strtoll(line + 6, nullptr, 10);
      break;
    }
  }
  std::fclose(file);
  return kib;
}

}  // namespace obgw::testing

// Starts a gateway into `var` or fails the test with the reason and output.
#define OBGW_START_GATEWAY(var, ...)                                         \
  std::string var##_start_error;                                             \
  auto var = ::obgw::testing::StartGateway(__VA_ARGS__, &var##_start_error); \
  ASSERT_NE(var, nullptr) << var##_start_error

#endif  // OBGW_TESTS_INTEGRATION_TEST_UTIL_H_
