#include "gateway/ws/session_auth.h"

#include <chrono>
#include <memory>

#include <gtest/gtest.h>

#include "jwt_minter.h"

namespace obgw::gateway {
namespace {

using obgw::testing::MintToken;
using std::chrono::seconds;

const std::string kSecret = "0123456789abcdef0123456789abcdef";
constexpr long long kWall = 1'700'000'000;
const auto kWallTime = std::chrono::system_clock::from_time_t(kWall);

std::unique_ptr<const JwtVerifier> Verifier() {
  JwtVerifierConfig config;
  config.secret = kSecret;
  config.leeway = seconds(5);
  return *JwtVerifier::Create(config);
}

std::string Token(std::string_view sub, long long exp, std::string_view extra = "") {
  return MintToken("HS256", kSecret,
                   "{\"sub\":\"" + std::string(sub) + "\",\"exp\":" + std::to_string(exp) +
                       std::string(extra) + "}");
}

TEST(SessionAuthTest, AuthOffAllowsEverything) {
  SessionAuth auth(nullptr, "alice");
  const Clock::time_point t0 = Clock::time_point() + seconds(1000);
  EXPECT_FALSE(auth.required());
  EXPECT_TRUE(auth.authenticated());
  EXPECT_TRUE(auth.Allows("AAPL"));
  EXPECT_EQ(auth.Check(t0 + std::chrono::hours(1000)), SessionAuth::Verdict::kNothing);
}

TEST(SessionAuthTest, TheFirstMessageHasADeadline) {
  auto verifier = Verifier();
  SessionAuth auth(verifier.get(), "alice");
  const Clock::time_point t0 = Clock::time_point() + seconds(1000);
  EXPECT_FALSE(auth.authenticated());
  EXPECT_FALSE(auth.Allows("AAPL"));
  // Not armed (reading has not started): no deadline yet.
  EXPECT_EQ(auth.Check(t0 + seconds(100)), SessionAuth::Verdict::kNothing);
  auth.Arm(t0 + seconds(5));
  EXPECT_EQ(auth.Check(t0 + seconds(4)), SessionAuth::Verdict::kNothing);
  EXPECT_EQ(auth.Check(t0 + seconds(5)), SessionAuth::Verdict::kAuthTimeout);
}

TEST(SessionAuthTest, ExpiryIsExpPlusLeewayOnTheSteadyClock) {
  auto verifier = Verifier();
  SessionAuth auth(verifier.get(), "alice");
  const Clock::time_point t0 = Clock::time_point() + seconds(1000);
  auth.Arm(t0 + seconds(5));
  JwtVerdict verdict = auth.Authenticate(Token("alice", kWall + 10), t0, kWallTime);
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(auth.authenticated());
  // The deadline no longer applies; exp + 5 s leeway = 15 s from now.
  EXPECT_EQ(auth.Check(t0 + seconds(14)), SessionAuth::Verdict::kNothing);
  EXPECT_EQ(auth.Check(t0 + seconds(15)), SessionAuth::Verdict::kExpired);
  // A refresh moves it.
  ASSERT_TRUE(
      auth.Authenticate(Token("alice", kWall + 70), t0 + seconds(10), kWallTime + seconds(10))
          .ok());
  EXPECT_EQ(auth.Check(t0 + seconds(15)), SessionAuth::Verdict::kNothing);
  EXPECT_EQ(auth.Check(t0 + seconds(75)), SessionAuth::Verdict::kExpired);
}

TEST(SessionAuthTest, ARefusedTokenChangesNothing) {
  auto verifier = Verifier();
  SessionAuth auth(verifier.get(), "alice");
  const Clock::time_point t0 = Clock::time_point() + seconds(1000);
  ASSERT_TRUE(
      auth.Authenticate(Token("alice", kWall + 60, ",\"symbols\":[\"AAPL\"]"), t0, kWallTime).ok());
  JwtVerdict verdict = auth.Authenticate(Token("bob", kWall + 600), t0, kWallTime);
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.error, JwtError::kWrongSub);
  EXPECT_EQ(auth.claims()->sub, "alice");
  EXPECT_TRUE(auth.Allows("AAPL"));
  EXPECT_FALSE(auth.Allows("MSFT"));
  EXPECT_EQ(auth.Check(t0 + seconds(65)), SessionAuth::Verdict::kExpired);
}

TEST(SessionAuthTest, RejectionsAreCountedByReason) {
  ShardStats stats;
  CountRejection(stats, JwtError::kExpired);
  CountRejection(stats, JwtError::kExpired);
  CountRejection(stats, JwtError::kWrongSub);
  EXPECT_EQ(stats.ws_auth_rejected_expired.load(), 2u);
  EXPECT_EQ(stats.ws_auth_rejected_wrong_sub.load(), 1u);
  EXPECT_EQ(stats.ws_auth_rejected_malformed.load(), 0u);
}

}  // namespace
}  // namespace obgw::gateway
