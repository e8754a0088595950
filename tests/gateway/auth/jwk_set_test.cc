#include "gateway/auth/jwk_set.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "gateway/auth/jwt_verifier.h"
#include "jwt_minter.h"

namespace obgw::gateway {
namespace {

using obgw::testing::GenerateEcKey;
using obgw::testing::GenerateRsaKey;
using obgw::testing::MintToken;
using obgw::testing::PublicJwk;
using obgw::testing::TestKeyPair;

constexpr long long kNow = 1'700'000'000;
const auto kNowTime = std::chrono::system_clock::from_time_t(kNow);

const TestKeyPair& Rsa1() {
  static const TestKeyPair key = GenerateRsaKey();
  return key;
}
const TestKeyPair& Rsa2() {
  static const TestKeyPair key = GenerateRsaKey();
  return key;
}
const TestKeyPair& Ec() {
  static const TestKeyPair key = GenerateEcKey();
  return key;
}

std::string Set(const std::string& keys) { return "{\"keys\":[" + keys + "]}"; }

std::string ParseError(const std::string& json) {
  auto keys = ParseJwks(json);
  return keys.ok() ? std::string() : std::string(keys.status().message());
}

TEST(JwkSetTest, ReadsRsaAndEcKeys) {
  auto keys = ParseJwks(Set(PublicJwk(Rsa1(), "r1") + "," + PublicJwk(Ec(), "e1")));
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].kid, "r1");
  EXPECT_EQ((*keys)[0].alg, "RS256");
  EXPECT_EQ((*keys)[0].pem, Rsa1().public_pem);  // the same key, re-encoded
  EXPECT_EQ((*keys)[1].alg, "ES256");
  EXPECT_EQ((*keys)[1].pem, Ec().public_pem);
}

TEST(JwkSetTest, SkipsEncryptionKeysAndChecksAlg) {
  std::string rsa = PublicJwk(Rsa1(), "r1");
  std::string enc = rsa.substr(0, rsa.size() - 1) + ",\"use\":\"enc\"}";
  auto keys = ParseJwks(Set(enc + "," + PublicJwk(Ec(), "e1")));
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 1u);
  std::string wrong_alg = rsa.substr(0, rsa.size() - 1) + ",\"alg\":\"ES256\"}";
  EXPECT_NE(ParseError(Set(wrong_alg)).find("not RS256"), std::string::npos);
  std::string right_alg = rsa.substr(0, rsa.size() - 1) + ",\"alg\":\"RS256\"}";
  EXPECT_TRUE(ParseJwks(Set(right_alg)).ok());
}

TEST(JwkSetTest, RefusesWhatItCannotUse) {
  std::string rsa = PublicJwk(Rsa1(), "r1");
  EXPECT_NE(ParseError("not json"), "");
  EXPECT_NE(ParseError("{\"keys\":{}}"), "");
  EXPECT_NE(ParseError(Set("")).find("no signature key"), std::string::npos);
  EXPECT_NE(ParseError(Set(rsa + "," + rsa)).find("repeated"), std::string::npos);
  EXPECT_NE(ParseError(Set(rsa.substr(0, rsa.size() - 1) + ",\"d\":\"AQAB\"}")).find("private"),
            std::string::npos);
  EXPECT_NE(ParseError(Set(R"({"kid":"s","kty":"oct","k":"c2VjcmV0"})")).find("symmetric"),
            std::string::npos);
  EXPECT_NE(ParseError(Set(R"({"kty":"RSA","n":"AQAB","e":"AQAB"})")).find("kid"),
            std::string::npos);
  EXPECT_NE(ParseError(Set(PublicJwk(GenerateRsaKey(1024), "small"))).find("2048"),
            std::string::npos);
  std::string ec = PublicJwk(Ec(), "e1");
  std::string p384 = ec;
  p384.replace(p384.find("P-256"), 5, "P-384");
  EXPECT_NE(ParseError(Set(p384)).find("P-256"), std::string::npos);
  // A point that is not on the curve.
  std::string off_curve = R"({"kid":"e","kty":"EC","crv":"P-256","x":")" + std::string(43, 'A') +
                          R"(","y":")" + std::string(42, 'A') + R"(E"})";
  EXPECT_NE(ParseError(Set(off_curve)), "");
}

TEST(JwkSetTest, VerifierPicksTheKeyByKid) {
  JwtVerifierConfig config;
  config.jwks_json =
      Set(PublicJwk(Rsa1(), "r1") + "," + PublicJwk(Rsa2(), "r2") + "," + PublicJwk(Ec(), "e1"));
  auto verifier = JwtVerifier::Create(config);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  EXPECT_EQ((*verifier)->Describe(), "JWKS (3 keys)");
  std::string claims = "{\"sub\":\"alice\",\"exp\":" + std::to_string(kNow + 600) + "}";
  auto verify = [&](std::string_view alg, const std::string& key, std::string_view kid) {
    return (*verifier)->Verify(MintToken(alg, key, claims, kid), kNowTime);
  };
  EXPECT_TRUE(verify("RS256", Rsa1().private_pem, "r1").ok());
  EXPECT_TRUE(verify("RS256", Rsa2().private_pem, "r2").ok());
  EXPECT_TRUE(verify("ES256", Ec().private_pem, "e1").ok());
  EXPECT_EQ(verify("RS256", Rsa1().private_pem, "r2").error, JwtError::kBadSignature);
  EXPECT_EQ(verify("RS256", Rsa1().private_pem, "r9").error, JwtError::kUnknownKey);
  EXPECT_EQ(verify("RS256", Rsa1().private_pem, "e1").error, JwtError::kWrongAlgorithm);
  // Algorithm confusion through a kid: HS256 keyed with the JWK's PEM.
  EXPECT_EQ(verify("HS256", Rsa1().public_pem, "r1").error, JwtError::kWrongAlgorithm);
  // Without a kid there is no key to pick.
  EXPECT_EQ(verify("RS256", Rsa1().private_pem, "").error, JwtError::kWrongAlgorithm);
  // A bad JWKS fails the verifier with its source named.
  config.jwks_json = "{}";
  config.jwks_source = "keys.json";
  auto bad = JwtVerifier::Create(config);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("keys.json"), std::string::npos);
}

}  // namespace
}  // namespace obgw::gateway
