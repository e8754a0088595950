// The per-IP connection rate limit (--connection_rate_per_ip,
// --connection_burst_per_ip): a burst of new connections from one address
// (here all from 127.0.0.1) past the bucket is closed at accept, before any
// HTTP is read, and counted; connections already open keep being served, and
// once the bucket refills new ones are served again.

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "http_test_client.h"
#include "test_util.h"

namespace obgw::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// GET /stats on a kept-alive connection (a new one would be rate limited).
boost::json::value StatsOn(HttpConnection& connection) {
  if (!connection.Send("GET /stats HTTP/1.1\r\nHost: test\r\n\r\n")) return {};
  return connection.Read().Json();
}

TEST(ConnectionRateTest, BurstPastTheBucketIsClosedAtAcceptAndServedAfterTheRefill) {
  constexpr int kBurst = 4;
  constexpr double kRate = 2;  // Per second: one connection back every 500 ms.
  OBGW_START_GATEWAY(gw, {"--connection_rate_per_ip=2", "--connection_burst_per_ip=4"});
  const int port = gw->http_port();
  // Opened first and kept: it takes one of the burst.
  HttpConnection kept(port);
  ASSERT_TRUE(kept.error().empty()) << kept.error();
  boost::json::value stats = StatsOn(kept);
  ASSERT_EQ(FindInt(stats, "connections_refused_rate"), 0) << Str(stats);

  const Clock::time_point burst_start = Clock::now();
  int served = 0;
  int refused = 0;
  for (int i = 0; i < 12; ++i) {
    HttpResponse response = HttpGet(port, "/health");
    if (response.status == 200) {
      ++served;
    } else {
      EXPECT_EQ(response.status, 0)
          << "a refused connection gets no answer at all: " << response.Describe();
      ++refused;
    }
  }
  const double burst_s = std::chrono::duration<double>(Clock::now() - burst_start).count();
  // The rest of the bucket, plus what refilled while the burst ran.
  EXPECT_GE(served, kBurst - 1);
  EXPECT_LE(served, kBurst - 1 + static_cast<int>(burst_s * kRate) + 1) << burst_s << " s";
  EXPECT_GT(refused, 0);

  // The kept connection is still served, and the counter matches what the
  // clients saw; refused connections never reached HTTP.
  stats = StatsOn(kept);
  EXPECT_EQ(FindInt(stats, "connections_refused_rate"), refused) << Str(stats);
  EXPECT_EQ(FindInt(stats, "http_requests"), served + 2) << Str(stats);

  // After the refill (at most 1 / kRate s) a new connection is served. The
  // attempts in between are refused and counted too.
  const Clock::time_point deadline = Clock::now() + 5s;
  int retries_refused = 0;
  bool served_again = false;
  while (!served_again && Clock::now() < deadline) {
    HttpResponse response = HttpGet(port, "/health");
    served_again = response.status == 200;
    if (!served_again) {
      ++retries_refused;
      std::this_thread::sleep_for(50ms);
    }
  }
  EXPECT_TRUE(served_again);
  stats = StatsOn(kept);
  EXPECT_EQ(FindInt(stats, "connections_refused_rate"), refused + retries_refused) << Str(stats);
}

TEST(ConnectionRateTest, OffByDefault) {
  OBGW_START_GATEWAY(gw, {});
  for (int i = 0; i < 50; ++i) ASSERT_EQ(HttpGet(gw->http_port(), "/health").status, 200) << i;
  EXPECT_EQ(FindInt(GetStats(gw->http_port()), "connections_refused_rate"), 0);
}

}  // namespace
}  // namespace obgw::testing
