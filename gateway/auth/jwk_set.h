#ifndef OBGW_GATEWAY_AUTH_JWK_SET_H_
#define OBGW_GATEWAY_AUTH_JWK_SET_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/statusor.h>

namespace obgw::gateway {

// One public key of a JWK Set (RFC 7517), as the verifier uses it: its kid,
// the one algorithm it verifies (from its kty/crv, never from a token) and
// the key re-encoded as PEM by OpenSSL, as libjwt reads it.
struct JwkKey {
  std::string kid;
  std::string alg;  // "RS256" or "ES256"
  std::string pem;
};

// Most keys one JWKS file may hold.
inline constexpr std::size_t kMaxJwks = 64;

// Parses a JWKS document {"keys":[...]}: RSA keys (kty "RSA", n, e; at
// least 2048 bits) and EC P-256 keys (kty "EC", crv "P-256", x, y), each
// with a distinct non-empty kid; an "alg" member, when present, must be the
// key's algorithm; keys whose "use" is not "sig" are skipped. Converts each
// through OpenSSL's EVP_PKEY_fromdata. Fails with a one-line reason naming
// the key's index and kid (never key material) for anything else: private
// members (d, p, q...), symmetric keys (kty "oct": use --jwt_secret),
// other curves or types, bad base64url, no usable key. Pure function, safe
// on any thread.
absl::StatusOr<std::vector<JwkKey>> ParseJwks(std::string_view json);

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_AUTH_JWK_SET_H_
