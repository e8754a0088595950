// libFuzzer target for the browser-token verifier (gateway/auth:
// JwtVerifier, ParseCompactJws, SymbolGrant), which reads every ?token= and
// auth message before anything else about the client is known. The first
// input byte picks the mode:
//   even: the rest is a token, verified as is (framing, base64url, header,
//         algorithm and JWKS key choice, libjwt's decoding);
//   odd:  the rest is a claims payload, signed here with the verifier's
//         HS256 secret (OpenSSL HMAC), so the claim checks behind the
//         signature (sub, exp, nbf, symbols, iss, aud) are reached too.
// For any input it checks that Verify returns (no crash, hang, exception or
// sanitizer report) and that an accepted token has a sub of 1-128 bytes and
// has not expired at the verification time.
//
//   build-asan/bin/jwt_verifier_fuzz -dict=tests/fuzz/json.dict tests/fuzz/corpus/jwt_verifier
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/auth/jwt_verifier.h"
#include "jwt_minter.h"

namespace {

using obgw::gateway::JwtVerdict;
using obgw::gateway::JwtVerifier;

constexpr std::string_view kSecret = "fuzz-secret-fuzz-secret-fuzz-secret!";
constexpr long long kNow = 1'700'000'000;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "jwt_verifier_fuzz: invariant violated: %s\n", what);
  __builtin_trap();
}

std::string Base64Url(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::string SignHs256(std::string_view payload) {
  std::string input = Base64Url(R"({"alg":"HS256","typ":"JWT"})") + "." + Base64Url(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
  return input + "." + Base64Url(std::string_view(reinterpret_cast<char*>(mac), length));
}

const JwtVerifier& Verifier() {
  static const std::unique_ptr<const JwtVerifier> verifier = [] {
    obgw::gateway::JwtVerifierConfig config;
    config.secret = kSecret;
    config.issuer = "https://auth.example";
    config.audience = "gw";
    // A JWKS too, so that tokens with a kid reach the key lookup.
    config.jwks_json =
        "{\"keys\":[" + obgw::testing::PublicJwk(obgw::testing::GenerateEcKey(), "k1") + "]}";
    auto created = JwtVerifier::Create(config);
    if (!created.ok()) Fail("the verifier cannot be built");
    return *std::move(created);
  }();
  return *verifier;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto now = std::chrono::system_clock::from_time_t(kNow);
  const JwtVerdict verdict =
      (data[0] & 1) == 0 ? Verifier().Verify(rest, now) : Verifier().Verify(SignHs256(rest), now);
  if (verdict.ok()) {
    if (verdict.claims->sub.empty() || verdict.claims->sub.size() > JwtVerifier::kMaxSubBytes) {
      Fail("accepted a token without a valid sub");
    }
    if (Verifier().ExpiresIn(*verdict.claims, now).count() <= 0) Fail("accepted an expired token");
  }
  return 0;
}
