// Redis auth of a cluster node: a password (in --redis_url or
// --redis_password) is sent with AUTH on every connect; the right one makes
// the node healthy, a wrong one is reported in /health and the log as an
// AUTH failure, and neither ever shows the password. rediss:// fails at start
// with what to use instead.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "gateway_process.h"
#include "http_test_client.h"
#include "redis_server.h"
#include "test_util.h"

namespace obgw::testing {
namespace {

using namespace std::chrono_literals;

const std::string kPassword = "redis-pass-0123456789";

// /health's status, and its reason in `reason`.
std::string Health(int port, std::string* reason) {
  boost::json::value body = HttpGet(port, "/health").Json();
  const boost::json::value* why = Find(body, "reason");
  *reason = why != nullptr && why->is_string() ? std::string(why->as_string()) : "";
  const boost::json::value* status = Find(body, "status");
  return status != nullptr && status->is_string() ? std::string(status->as_string()) : "?";
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

class RedisAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    redis_ = RedisServer::StartWithPassword(kPassword, &error);
    ASSERT_TRUE(redis_) << error;
    address_ = "127.0.0.1:" + std::to_string(redis_->port());
  }

  std::unique_ptr<RedisServer> redis_;
  std::string address_;
};

TEST_F(RedisAuthTest, TheRightPasswordFromTheUrlOrTheFlagMakesTheNodeHealthy) {
  OBGW_START_GATEWAY(in_url, {"--redis_url=redis://:" + kPassword + "@" + address_});
  OBGW_START_GATEWAY(in_flag, {"--redis_url=redis://" + address_}, {"REDIS_PASSWORD=" + kPassword});
  std::string reason;
  for (GatewayProcess* node : {in_url.get(), in_flag.get()}) {
    EXPECT_TRUE(WaitFor([&] { return Health(node->http_port(), &reason) == "healthy"; })) << reason;
    EXPECT_EQ(node->Output().find(kPassword), std::string::npos) << node->Output();
    EXPECT_EQ(HttpGet(node->http_port(), "/stats").body.find(kPassword), std::string::npos);
  }
  // The log names the Redis by its redacted URL only.
  EXPECT_NE(in_url->Output().find("redis://:***@" + address_), std::string::npos)
      << in_url->Output();
}

TEST_F(RedisAuthTest, AWrongPasswordIsReportedAsAnAuthFailure) {
  OBGW_START_GATEWAY(gw, {"--redis_url=redis://" + address_, "--redis_timeout_ms=300"},
                     {"REDIS_PASSWORD=not-the-password"});
  std::string reason;
  EXPECT_TRUE(WaitFor([&] {
    return Health(gw->http_port(), &reason) == "degraded" &&
           reason.find("AUTH failed") != std::string::npos;
  })) << reason;
  EXPECT_NE(reason.find("WRONGPASS"), std::string::npos) << reason;
  EXPECT_NE(gw->Output().find("AUTH failed"), std::string::npos) << gw->Output();
  EXPECT_EQ(gw->Output().find("not-the-password"), std::string::npos) << gw->Output();
  EXPECT_EQ(reason.find("not-the-password"), std::string::npos) << reason;
}

TEST_F(RedisAuthTest, APasswordTwiceOrRedissFailsAtStartInOneLine) {
  auto twice = Process::Spawn(GatewayPath(),
                              {"--redis_url=redis://:" + kPassword + "@" + address_,
                               "--redis_password=" + kPassword, "--http_port=0", "--grpc_port=0"});
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->WaitForExit(5s), 2);
  EXPECT_NE(twice->Output().find("set twice"), std::string::npos) << twice->Output();
  EXPECT_EQ(twice->Output().find(kPassword), std::string::npos) << twice->Output();

  auto tls = Process::Spawn(GatewayPath(), {"--redis_url=rediss://:" + kPassword + "@" + address_,
                                            "--http_port=0", "--grpc_port=0"});
  ASSERT_TRUE(tls);
  EXPECT_EQ(tls->WaitForExit(5s), 2);
  std::string output = tls->Output();
  EXPECT_NE(output.find("rediss:// (TLS) is not supported"), std::string::npos) << output;
  EXPECT_NE(output.find("stunnel"), std::string::npos) << output;
  EXPECT_EQ(output.find(kPassword), std::string::npos) << output;
}

}  // namespace
}  // namespace obgw::testing
