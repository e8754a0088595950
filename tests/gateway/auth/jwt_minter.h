#ifndef OBGW_TESTS_GATEWAY_AUTH_JWT_MINTER_H_
#define OBGW_TESTS_GATEWAY_AUTH_JWT_MINTER_H_

#include <string>
#include <string_view>

namespace obgw::testing {

// Test keys and tokens, made at test time with OpenSSL's C API and libjwt's
// jwt_encode_str (the unit and integration tests share them). Pure
// functions; they abort the test program if OpenSSL or libjwt fails.

struct TestKeyPair {
  std::string private_pem;
  std::string public_pem;
};

// A fresh RSA key of `bits` bits.
TestKeyPair GenerateRsaKey(int bits = 2048);
// A fresh EC key on `curve` ("P-256", "P-384").
TestKeyPair GenerateEcKey(std::string_view curve = "P-256");

// One RSA-2048 and one EC P-256 key per test program, made on first use (RSA
// generation takes a while).
const TestKeyPair& Rsa();
const TestKeyPair& Ec();

// A token with `alg` ("HS256", "RS256", "ES256", "none", ...), signed with
// `key` (the HMAC secret or the private key's PEM; ignored for "none"), and
// the claims of the JSON object `claims_json`; with `kid`, a kid header.
std::string MintToken(std::string_view alg, std::string_view key, std::string_view claims_json,
                      std::string_view kid = {});

// `key`'s public half as a JWK (RFC 7517 object) with `kid`: RSA (n, e) or
// EC (crv P-256, x, y).
std::string PublicJwk(const TestKeyPair& key, std::string_view kid);

// `{"sub":<sub>,"exp":<now + ttl_s>}` plus `extra` (",\"nbf\":1" style, may be empty).
std::string ClaimsJson(std::string_view sub, long long ttl_s, std::string_view extra = "");

// Seconds since the Unix epoch, now.
long long UnixNow();

}  // namespace obgw::testing

#endif  // OBGW_TESTS_GATEWAY_AUTH_JWT_MINTER_H_
