// GET /metrics: valid Prometheus text (checked by promtool), the same
// numbers as /stats, and histograms that counted the traffic.

#include <cstdio>
#include <fstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "grpc_test_client.h"
#include "http_test_client.h"
#include "test_util.h"
#include "tests/gateway/metrics/prometheus_text.h"
#include "ws_test_client.h"

namespace obgw::testing {
namespace {

using gateway::ParsePrometheusSamples;
using gateway::PrometheusSample;

constexpr const char* kPromtool = "/usr/bin/promtool";

struct PromtoolResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `promtool check metrics` on `text` (its stdin).
PromtoolResult CheckWithPromtool(const std::string& text) {
  char path[] = "/tmp/obgw_metrics_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return {-1, "mkstemp failed"};
  close(fd);
  std::ofstream(path) << text;
  std::string command = std::string(kPromtool) + " check metrics < " + path + " 2>&1";
  PromtoolResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buffer[4096];
  std::size_t n = 0;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  unlink(path);
  return result;
}

// Sum of every sample named `name` whose labels include `labels` (over the
// shards, when the family has a shard label).
double SumOf(const std::vector<PrometheusSample>& samples, std::string_view name,
             const std::map<std::string, std::string>& labels = {}) {
  double total = 0;
  for (const PrometheusSample& sample : samples) {
    if (sample.name != name) continue;
    bool matches = true;
    for (const auto& [key, value] : labels) {
      auto it = sample.labels.find(key);
      matches = matches && it != sample.labels.end() && it->second == value;
    }
    if (matches) total += sample.value;
  }
  return total;
}

std::vector<PrometheusSample> Scrape(int port, std::string* text = nullptr) {
  HttpResponse response = HttpGet(port, "/metrics");
  EXPECT_EQ(response.status, 200) << response.Describe();
  if (text != nullptr) *text = response.body;
  auto samples = ParsePrometheusSamples(response.body);
  EXPECT_TRUE(samples) << response.body;
  return samples.value_or(std::vector<PrometheusSample>{});
}

// Polls GET /metrics until SumOf(name, labels) reaches `expected` or
// `timeout` passes (a write completes on the gateway's thread a moment after
// the client read its bytes); returns the last scrape.
std::vector<PrometheusSample> WaitForMetric(
    int port, std::string_view name, double expected,
    const std::map<std::string, std::string>& labels = {},
    std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::vector<PrometheusSample> samples = Scrape(port);
    if (SumOf(samples, name, labels) >= expected) return samples;
    if (std::chrono::steady_clock::now() >= deadline) return samples;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TEST(MetricsTest, PromtoolReportsAProblem) {
  // The check below is only as good as promtool's verdict: it must flag a
  // counter without _total.
  PromtoolResult result = CheckWithPromtool("# HELP bad Bad.\n# TYPE bad counter\nbad 1\n");
  EXPECT_NE(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("_total"), std::string::npos) << result.output;
}

TEST(MetricsTest, PrometheusTextCountsTheTrafficAndPassesPromtool) {
  OBGW_START_GATEWAY(gw, {});
  const int port = gw->http_port();
  WsTestClient client;
  ASSERT_TRUE(client.Connect(port, "metrics-a")) << client.error();
  std::string error;
  ASSERT_TRUE(Subscribe(client, "AAPL", &error)) << error;

  constexpr int kRestBooks = 5;
  for (int i = 0; i < kRestBooks; ++i) {
    ASSERT_EQ(PostBook(port, "AAPL", R"({"bids":[[1,1]],"asks":[]})").status, 200);
    ASSERT_TRUE(ReadUpdate(client, "AAPL")) << client.error();
  }
  PublishResult published = PublishStream(gw->grpc_target(), {MakeUpdate("AAPL", 1)});
  ASSERT_TRUE(published.status.ok()) << published.status.error_message();
  ASSERT_TRUE(ReadUpdate(client, "AAPL")) << client.error();
  constexpr int kBooks = kRestBooks + 1;

  // Every book the subscriber read was timed from its arrival to its write.
  std::vector<PrometheusSample> samples =
      WaitForMetric(port, "obgw_ws_delivery_latency_seconds_count", kBooks);
  std::string text;
  samples = Scrape(port, &text);
  EXPECT_EQ(SumOf(samples, "obgw_ws_delivery_latency_seconds_count"), kBooks) << text;
  EXPECT_EQ(SumOf(samples, "obgw_ws_delivery_latency_seconds_bucket", {{"le", "+Inf"}}), kBooks)
      << text;
  double latency_sum = SumOf(samples, "obgw_ws_delivery_latency_seconds_sum");
  EXPECT_GT(latency_sum, 0) << text;
  EXPECT_LT(latency_sum, kBooks * 3.0) << text;  // Seconds, not nanoseconds.
  // Each routed book waited in the hub queue once.
  EXPECT_EQ(SumOf(samples, "obgw_hub_queue_delay_seconds_count"), kBooks) << text;
  EXPECT_EQ(SumOf(samples, "obgw_hub_updates_routed_total"), kBooks) << text;
  // Every socket write is one observation; together they carried every message.
  EXPECT_EQ(SumOf(samples, "obgw_ws_frames_per_write_count"),
            SumOf(samples, "obgw_ws_socket_writes_total"))
      << text;
  EXPECT_EQ(SumOf(samples, "obgw_ws_frames_per_write_sum"),
            SumOf(samples, "obgw_ws_messages_sent_total"))
      << text;
  EXPECT_GE(SumOf(samples, "obgw_ws_messages_sent_total"), kBooks + 1) << text;  // + confirmation
  // Sources are labels of one family; per-shard series sum to /stats.
  EXPECT_EQ(SumOf(samples, "obgw_ingest_books_accepted_total", {{"source", "rest"}}), kRestBooks)
      << text;
  EXPECT_EQ(SumOf(samples, "obgw_ingest_books_accepted_total", {{"source", "grpc"}}), 1) << text;
  EXPECT_EQ(SumOf(samples, "obgw_ws_connections"), 1) << text;
  boost::json::value stats = GetStats(port);
  EXPECT_EQ(FindInt(stats, "ingest.rest_accepted"), kRestBooks) << Str(stats);
  EXPECT_EQ(FindInt(stats, "active_connections"), 1) << Str(stats);
  EXPECT_EQ(FindInt(stats, "updates_routed"), kBooks) << Str(stats);

  PromtoolResult check = CheckWithPromtool(text);
  EXPECT_EQ(check.exit_code, 0) << check.output << "\n" << text;
  EXPECT_EQ(check.output, "") << text;
}

TEST(MetricsTest, ServesGetAndHeadAsPrometheusText) {
  OBGW_START_GATEWAY(gw, {});
  HttpResponse get = HttpGet(gw->http_port(), "/metrics");
  ASSERT_EQ(get.status, 200) << get.Describe();
  EXPECT_EQ(get.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(get.body.find("# TYPE obgw_ws_closed_total counter\n"), std::string::npos) << get.body;

  HttpResponse head = HttpRequest(gw->http_port(), "HEAD", "/metrics", "");
  ASSERT_EQ(head.status, 200) << head.Describe();
  EXPECT_EQ(head.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(head.body, "");
  EXPECT_GT(std::stoul(head.Header("content-length")), 0u) << head.Describe();

  HttpResponse post = HttpRequest(gw->http_port(), "POST", "/metrics", "");
  EXPECT_EQ(post.status, 405) << post.Describe();
  EXPECT_EQ(post.Header("allow"), "GET, HEAD") << post.Describe();
}

}  // namespace
}  // namespace obgw::testing
