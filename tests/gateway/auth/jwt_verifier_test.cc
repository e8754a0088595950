#include "gateway/auth/jwt_verifier.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "jwt_minter.h"

namespace obgw::gateway {
namespace {

using obgw::testing::Ec;
using obgw::testing::GenerateEcKey;
using obgw::testing::GenerateRsaKey;
using obgw::testing::MintToken;
using obgw::testing::Rsa;
using obgw::testing::TestKeyPair;

constexpr long long kNow = 1'700'000'000;
const std::chrono::system_clock::time_point kNowTime = std::chrono::system_clock::from_time_t(kNow);
const std::string kSecret = "0123456789abcdef0123456789abcdef";  // 32 bytes

std::string Claims(std::string_view extra = "", long long exp_offset = 600) {
  return "{\"sub\":\"alice\",\"exp\":" + std::to_string(kNow + exp_offset) + std::string(extra) +
         "}";
}

// Configurations by field (designated initializers would leave members
// implicit, which -Wextra reports).
JwtVerifierConfig Config(std::string secret, std::string pem = "",
                         std::chrono::seconds leeway = std::chrono::seconds(30)) {
  JwtVerifierConfig config;
  config.secret = std::move(secret);
  config.public_key_pem = std::move(pem);
  config.leeway = leeway;
  return config;
}

std::unique_ptr<const JwtVerifier> Make(JwtVerifierConfig config) {
  auto verifier = JwtVerifier::Create(std::move(config));
  EXPECT_TRUE(verifier.ok()) << verifier.status();
  return verifier.ok() ? *std::move(verifier) : nullptr;
}

std::unique_ptr<const JwtVerifier> Hs256(std::chrono::seconds leeway = std::chrono::seconds(30)) {
  return Make(Config(kSecret, "", leeway));
}
std::unique_ptr<const JwtVerifier> WithKey(const TestKeyPair& key, std::string secret = "") {
  return Make(Config(std::move(secret), key.public_pem));
}

::testing::AssertionResult Refused(const JwtVerdict& verdict, JwtError error) {
  if (verdict.ok()) return ::testing::AssertionFailure() << "accepted";
  if (verdict.error != error) {
    return ::testing::AssertionFailure()
           << "refused with " << JwtErrorCode(verdict.error) << ", not " << JwtErrorCode(error);
  }
  return ::testing::AssertionSuccess();
}

TEST(JwtVerifierTest, Hs256TokenIsAccepted) {
  auto verifier = Hs256();
  JwtVerdict verdict = verifier->Verify(MintToken("HS256", kSecret, Claims()), kNowTime);
  ASSERT_TRUE(verdict.ok()) << JwtErrorCode(verdict.error);
  EXPECT_EQ(verdict.claims->sub, "alice");
  EXPECT_EQ(verdict.claims->exp, kNow + 600);
  EXPECT_FALSE(verdict.claims->nbf);
  EXPECT_TRUE(verdict.claims->symbols.unrestricted());
  EXPECT_EQ(verifier->Describe(), "HS256");
}

TEST(JwtVerifierTest, Rs256AndEs256TokensAreAcceptedByTheirKey) {
  auto rsa = WithKey(Rsa());
  auto ec = WithKey(Ec());
  EXPECT_EQ(rsa->Describe(), "RS256");
  EXPECT_EQ(ec->Describe(), "ES256");
  EXPECT_TRUE(rsa->Verify(MintToken("RS256", Rsa().private_pem, Claims()), kNowTime).ok());
  EXPECT_TRUE(ec->Verify(MintToken("ES256", Ec().private_pem, Claims()), kNowTime).ok());
  // Each key accepts its own algorithm only.
  EXPECT_TRUE(Refused(rsa->Verify(MintToken("ES256", Ec().private_pem, Claims()), kNowTime),
                      JwtError::kWrongAlgorithm));
  EXPECT_TRUE(Refused(ec->Verify(MintToken("RS256", Rsa().private_pem, Claims()), kNowTime),
                      JwtError::kWrongAlgorithm));
  EXPECT_TRUE(Refused(rsa->Verify(MintToken("RS512", Rsa().private_pem, Claims()), kNowTime),
                      JwtError::kWrongAlgorithm));
}

TEST(JwtVerifierTest, SecretAndKeyTogetherAcceptBoth) {
  auto verifier = WithKey(Ec(), kSecret);
  EXPECT_EQ(verifier->Describe(), "HS256+ES256");
  EXPECT_TRUE(verifier->Verify(MintToken("HS256", kSecret, Claims()), kNowTime).ok());
  EXPECT_TRUE(verifier->Verify(MintToken("ES256", Ec().private_pem, Claims()), kNowTime).ok());
}

TEST(JwtVerifierTest, WrongSignatureIsRefused) {
  auto verifier = Hs256();
  std::string other = "another-secret-of-at-least-32-bytes!";
  EXPECT_TRUE(Refused(verifier->Verify(MintToken("HS256", other, Claims()), kNowTime),
                      JwtError::kBadSignature));
  // Another RSA key's signature.
  TestKeyPair stranger = GenerateRsaKey();
  EXPECT_TRUE(
      Refused(WithKey(Rsa())->Verify(MintToken("RS256", stranger.private_pem, Claims()), kNowTime),
              JwtError::kBadSignature));
  // A payload changed after signing (sub: alice -> mallory).
  std::string token = MintToken("HS256", kSecret, Claims());
  std::string forged =
      MintToken("HS256", other, "{\"sub\":\"mallory\",\"exp\":" + std::to_string(kNow + 600) + "}");
  std::size_t dot1 = token.find('.'), dot2 = token.rfind('.');
  std::size_t fdot1 = forged.find('.'), fdot2 = forged.rfind('.');
  std::string spliced =
      token.substr(0, dot1 + 1) + forged.substr(fdot1 + 1, fdot2 - fdot1 - 1) + token.substr(dot2);
  EXPECT_TRUE(Refused(verifier->Verify(spliced, kNowTime), JwtError::kBadSignature));
}

TEST(JwtVerifierTest, AlgNoneIsRefusedWhateverTheKeys) {
  std::string token = MintToken("none", "", Claims());
  EXPECT_TRUE(Refused(Hs256()->Verify(token, kNowTime), JwtError::kWrongAlgorithm));
  EXPECT_TRUE(Refused(WithKey(Rsa())->Verify(token, kNowTime), JwtError::kWrongAlgorithm));
  // With a made-up signature part too.
  EXPECT_TRUE(Refused(Hs256()->Verify(token + "c2ln", kNowTime), JwtError::kWrongAlgorithm));
}

TEST(JwtVerifierTest, Hs256SignedWithThePublicKeyIsRefused) {
  // Algorithm confusion: the public key is public, so an HMAC over it proves
  // nothing. With only the key configured HS256 is not accepted at all...
  for (const TestKeyPair* key : {&Rsa(), &Ec()}) {
    std::string token = MintToken("HS256", key->public_pem, Claims());
    EXPECT_TRUE(Refused(WithKey(*key)->Verify(token, kNowTime), JwtError::kWrongAlgorithm));
    // ...and with a secret too, HS256 checks against the secret, never the key.
    EXPECT_TRUE(Refused(WithKey(*key, kSecret)->Verify(token, kNowTime), JwtError::kBadSignature));
  }
}

TEST(JwtVerifierTest, MalformedTokensAreRefused) {
  auto verifier = Hs256();
  std::string good = MintToken("HS256", kSecret, Claims());
  for (std::string token :
       {std::string(), std::string("abc"), std::string("a.b"), good + ".x", std::string("..."),
        "!" + good, std::string("eyJhbGciOiJIUzI1NiJ9.e30"), good + "=",
        // A header that is not JSON, or not an object, or lacks alg.
        std::string("bm90IGpzb24.e30.c2ln"), std::string("WzFd.e30.c2ln"),
        std::string("e30.e30.c2ln"),
        // The payload not an object.
        std::string("eyJhbGciOiJIUzI1NiJ9.WzFd.c2ln"),
        // A crit header.
        std::string("eyJhbGciOiJIUzI1NiIsImNyaXQiOlsieCJdfQ.e30.c2ln"),
        std::string(JwtVerifier::kMaxTokenBytes + 1, 'a')}) {
    EXPECT_TRUE(Refused(verifier->Verify(token, kNowTime), JwtError::kMalformed)) << token;
  }
}

TEST(JwtVerifierTest, ExpiryHonoursTheLeeway) {
  auto verifier = Hs256(std::chrono::seconds(30));
  auto at = [&](long long offset) { return std::chrono::system_clock::from_time_t(kNow + offset); };
  std::string token = MintToken("HS256", kSecret, Claims("", 0));  // exp = kNow
  EXPECT_TRUE(verifier->Verify(token, at(-1)).ok());
  EXPECT_TRUE(verifier->Verify(token, at(29)).ok());
  EXPECT_TRUE(Refused(verifier->Verify(token, at(30)), JwtError::kExpired));
  EXPECT_TRUE(Refused(verifier->Verify(token, at(3600)), JwtError::kExpired));
  EXPECT_EQ(verifier->ExpiresIn(*verifier->Verify(token, at(10)).claims, at(10)),
            std::chrono::seconds(20));
  EXPECT_EQ(verifier->ExpiresIn(*verifier->Verify(token, at(10)).claims,
                                at(10) + std::chrono::milliseconds(250)),
            std::chrono::milliseconds(19750));
  // Without leeway exp is the first refused second.
  auto strict = Hs256(std::chrono::seconds(0));
  EXPECT_TRUE(strict->Verify(token, at(-1)).ok());
  EXPECT_TRUE(Refused(strict->Verify(token, at(0)), JwtError::kExpired));
}

TEST(JwtVerifierTest, FarFutureExpiryIsBoundedNotOverflowed) {
  // Year 9999 is a valid NumericDate, but not a nanosecond duration from now
  // (found by jwt_verifier_fuzz under UBSan).
  auto verifier = Hs256();
  JwtVerdict verdict = verifier->Verify(
      MintToken("HS256", kSecret, "{\"sub\":\"alice\",\"exp\":253402300799}"), kNowTime);
  ASSERT_TRUE(verdict.ok());
  auto remaining = verifier->ExpiresIn(*verdict.claims, kNowTime);
  EXPECT_GT(remaining, std::chrono::hours(24 * 365 * 99));
  EXPECT_LE(remaining, std::chrono::hours(24 * 365 * 100));
}

TEST(JwtVerifierTest, NotBeforeHonoursTheLeeway) {
  auto verifier = Hs256(std::chrono::seconds(30));
  std::string token =
      MintToken("HS256", kSecret, Claims(",\"nbf\":" + std::to_string(kNow + 100), 600));
  auto at = [](long long offset) { return std::chrono::system_clock::from_time_t(kNow + offset); };
  EXPECT_TRUE(Refused(verifier->Verify(token, at(69)), JwtError::kNotYetValid));
  JwtVerdict verdict = verifier->Verify(token, at(70));
  ASSERT_TRUE(verdict.ok());
  EXPECT_EQ(verdict.claims->nbf, kNow + 100);
}

TEST(JwtVerifierTest, ClaimShapesAreChecked) {
  auto verifier = Hs256();
  std::string exp = std::to_string(kNow + 600);
  auto verify = [&](const std::string& claims) {
    return verifier->Verify(MintToken("HS256", kSecret, claims), kNowTime);
  };
  EXPECT_TRUE(Refused(verify("{\"exp\":" + exp + "}"), JwtError::kMissingSub));
  EXPECT_TRUE(Refused(verify("{\"sub\":\"\",\"exp\":" + exp + "}"), JwtError::kMissingSub));
  EXPECT_TRUE(Refused(verify("{\"sub\":7,\"exp\":" + exp + "}"), JwtError::kBadClaims));
  EXPECT_TRUE(Refused(verify("{\"sub\":\"" + std::string(129, 'a') + "\",\"exp\":" + exp + "}"),
                      JwtError::kBadClaims));
  EXPECT_TRUE(Refused(verify("{\"sub\":\"alice\"}"), JwtError::kBadClaims));  // exp required
  EXPECT_TRUE(Refused(verify("{\"sub\":\"alice\",\"exp\":\"soon\"}"), JwtError::kBadClaims));
  EXPECT_TRUE(Refused(verify("{\"sub\":\"alice\",\"exp\":-5}"), JwtError::kBadClaims));
  EXPECT_TRUE(Refused(verify(Claims(",\"nbf\":true")), JwtError::kBadClaims));
  EXPECT_TRUE(Refused(verify(Claims(",\"symbols\":\"AAPL\"")), JwtError::kBadClaims));
  EXPECT_TRUE(Refused(verify(Claims(",\"symbols\":[1]")), JwtError::kBadClaims));
  EXPECT_TRUE(Refused(verify(Claims(",\"symbols\":[\"A B\"]")), JwtError::kBadClaims));
  EXPECT_TRUE(Refused(verify(Claims(",\"symbols\":[\"US*\"]")), JwtError::kBadClaims));
  // A fractional exp is a NumericDate too.
  JwtVerdict fractional = verify("{\"sub\":\"alice\",\"exp\":" + exp + ".75}");
  ASSERT_TRUE(fractional.ok());
  EXPECT_EQ(fractional.claims->exp, kNow + 600);
}

TEST(JwtVerifierTest, SymbolsClaimBecomesTheGrant) {
  auto verifier = Hs256();
  JwtVerdict verdict = verifier->Verify(
      MintToken("HS256", kSecret, Claims(",\"symbols\":[\"AAPL\",\"US.*\"]")), kNowTime);
  ASSERT_TRUE(verdict.ok());
  const SymbolGrant& grant = verdict.claims->symbols;
  EXPECT_FALSE(grant.unrestricted());
  EXPECT_TRUE(grant.Allows("AAPL"));
  EXPECT_TRUE(grant.Allows("US.MSFT"));
  EXPECT_FALSE(grant.Allows("MSFT"));
}

TEST(JwtVerifierTest, SubMustBeTheClientId) {
  auto verifier = Hs256();
  std::string token = MintToken("HS256", kSecret, Claims());
  EXPECT_TRUE(verifier->VerifyFor(token, "alice", kNowTime).ok());
  EXPECT_TRUE(Refused(verifier->VerifyFor(token, "bob", kNowTime), JwtError::kWrongSub));
  // A token refused for another reason keeps that reason.
  EXPECT_TRUE(Refused(verifier->VerifyFor("x", "bob", kNowTime), JwtError::kMalformed));
}

TEST(JwtVerifierTest, IssuerAndAudienceWhenConfigured) {
  JwtVerifierConfig config = Config(kSecret);
  config.issuer = "https://auth.example";
  config.audience = "gw";
  auto verifier = Make(config);
  auto verify = [&](const std::string& extra) {
    return verifier->Verify(MintToken("HS256", kSecret, Claims(extra)), kNowTime);
  };
  EXPECT_TRUE(verify(",\"iss\":\"https://auth.example\",\"aud\":\"gw\"").ok());
  EXPECT_TRUE(verify(",\"iss\":\"https://auth.example\",\"aud\":[\"x\",\"gw\"]").ok());
  EXPECT_TRUE(Refused(verify(",\"aud\":\"gw\""), JwtError::kBadClaims));
  EXPECT_TRUE(
      Refused(verify(",\"iss\":\"https://evil.example\",\"aud\":\"gw\""), JwtError::kBadClaims));
  EXPECT_TRUE(
      Refused(verify(",\"iss\":\"https://auth.example\",\"aud\":[\"x\"]"), JwtError::kBadClaims));
}

TEST(JwtVerifierTest, BadConfigurationFailsWithAReason) {
  auto reason = [](JwtVerifierConfig config) {
    auto verifier = JwtVerifier::Create(std::move(config));
    return verifier.ok() ? std::string() : std::string(verifier.status().message());
  };
  EXPECT_NE(reason(Config("")), "");
  std::string short_secret = "short-secret";
  std::string message = reason(Config(short_secret));
  EXPECT_NE(message.find("shorter than 32 bytes"), std::string::npos) << message;
  EXPECT_EQ(message.find(short_secret), std::string::npos) << "the secret leaked: " << message;
  JwtVerifierConfig not_a_key = Config("", "not a key");
  not_a_key.public_key_source = "k.pem";
  EXPECT_NE(reason(not_a_key).find("k.pem"), std::string::npos);
  EXPECT_NE(reason(Config("", Rsa().private_pem)).find("private key"), std::string::npos);
  EXPECT_NE(reason(Config("", GenerateRsaKey(1024).public_pem)).find("2048"), std::string::npos);
  EXPECT_NE(reason(Config("", GenerateEcKey("P-384").public_pem)).find("P-256"), std::string::npos);
}

TEST(JwtVerifierTest, EveryReasonHasACodeAndAMessage) {
  for (JwtError error : {JwtError::kMalformed, JwtError::kWrongAlgorithm, JwtError::kBadSignature,
                         JwtError::kExpired, JwtError::kNotYetValid, JwtError::kMissingSub,
                         JwtError::kBadClaims, JwtError::kWrongSub}) {
    EXPECT_TRUE(JwtErrorCode(error).starts_with("token_"));
    EXPECT_FALSE(JwtErrorMessage(error).empty());
  }
}

}  // namespace
}  // namespace obgw::gateway
