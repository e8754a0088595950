#ifndef OBGW_GATEWAY_AUTH_JWT_VERIFIER_H_
#define OBGW_GATEWAY_AUTH_JWT_VERIFIER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/statusor.h>

#include "gateway/auth/jwk_set.h"
#include "gateway/auth/symbol_grant.h"

namespace obgw::gateway {

// Every reason a token is refused, declared once:
//   X(enumerator, code, what the client is told)
// `code` is the error code of the HTTP 401 body, of the WebSocket error reply
// and the reason of the 1008 close (docs/protocol.md), and the `reason`
// label of the ws_auth_rejected counters (gateway_stats.h). No message ever
// quotes the token, a claim's value or a key.
#define OBGW_JWT_REJECTIONS(X)                                                             \
  X(kMalformed, "token_malformed",                                                         \
    "Not a well-formed JWT: three base64url parts, JSON header and payload, at most "      \
    "8192 bytes")                                                                          \
  X(kWrongAlgorithm, "token_wrong_algorithm",                                              \
    "The token's alg is not the one of the gateway's key")                                 \
  X(kBadSignature, "token_bad_signature", "The token's signature does not verify")         \
  X(kExpired, "token_expired", "The token has expired (exp)")                              \
  X(kNotYetValid, "token_not_yet_valid", "The token is not valid yet (nbf)")               \
  X(kMissingSub, "token_missing_sub", "The token has no sub claim")                        \
  X(kBadClaims, "token_bad_claims",                                                        \
    "The token's claims are invalid: exp is required and, like nbf, a NumericDate; sub a " \
    "string of 1-128 bytes; symbols an array of symbols and PREFIX.* patterns; iss and "   \
    "aud as configured")                                                                   \
  X(kWrongSub, "token_wrong_sub", "The token's sub is not this connection's client_id")    \
  X(kUnknownKey, "token_unknown_key", "The token's kid names none of the gateway's keys")

enum class JwtError {
#define OBGW_JWT_ENUMERATOR_(name, code, message) name,
  OBGW_JWT_REJECTIONS(OBGW_JWT_ENUMERATOR_)
#undef OBGW_JWT_ENUMERATOR_
};

// The code and message of `error` (static strings).
std::string_view JwtErrorCode(JwtError error);
std::string_view JwtErrorMessage(JwtError error);

// What a verified token says.
struct JwtClaims {
  std::string sub;
  // NumericDates (Unix seconds; fractions dropped).
  std::int64_t exp = 0;
  std::optional<std::int64_t> nbf;
  SymbolGrant symbols = SymbolGrant::Unrestricted();
};

// Verify's answer: the claims, or why the token was refused.
struct JwtVerdict {
  std::optional<JwtClaims> claims;
  JwtError error = JwtError::kMalformed;
  bool ok() const { return claims.has_value(); }
};

// How the gateway checks tokens (main.cc fills it from the --jwt_* flags).
struct JwtVerifierConfig {
  // HS256 when not empty; at least 32 bytes (RFC 7518 3.2: a key as long as
  // the hash).
  std::string secret;
  // A PEM public key (or certificate): RS256 for an RSA key of at least 2048
  // bits, ES256 for an EC P-256 key; the algorithm comes from the key, never
  // from a token. Empty: none. `public_key_source` names it in errors.
  std::string public_key_pem;
  std::string public_key_source = "public key";
  // A JWK Set (RFC 7517) document, or empty: RSA and EC P-256 public keys
  // picked by the token header's kid (several keys of one algorithm at once,
  // for rotation); a token with a kid that names none is token_unknown_key.
  // `jwks_source` names it in errors.
  std::string jwks_json;
  std::string jwks_source = "JWKS";
  // Allowed clock difference with the token's issuer, for exp and nbf.
  std::chrono::seconds leeway{30};
  // When not empty, the token's iss must equal `issuer`, and its aud (a
  // string or an array of strings) must contain `audience`.
  std::string issuer;
  std::string audience;
};

// Checks browser tokens (JWT, RFC 7519) with libjwt: signature, algorithm,
// exp/nbf with a leeway, sub, and the optional symbols claim.
//
// libjwt 1.10 takes the algorithm from the token's own header, so the
// verifier decides which algorithms it accepts from its configured keys and
// refuses every other alg, "none" included, before libjwt sees the token:
// an HS256 token "signed" with the public key's PEM as the HMAC secret
// (algorithm confusion) is refused as wrong_algorithm when only a key is
// configured, and fails its signature against the secret when both are.
//
// Immutable after Create: Verify is safe from any thread at once (every
// call builds its own libjwt and OpenSSL objects).
class JwtVerifier {
 public:
  // Longest token looked at; a longer one is malformed.
  static constexpr std::size_t kMaxTokenBytes = 8192;
  // Longest sub (the gateway's client_ids are at most 128 bytes too).
  static constexpr std::size_t kMaxSubBytes = 128;

  // Fails with a one-line reason (never quoting the secret or key) for a
  // short secret, an unreadable key, a private key, an RSA key under 2048
  // bits, an EC key not on P-256, another key type, a bad JWKS (ParseJwks),
  // or none of the three set.
  static absl::StatusOr<std::unique_ptr<const JwtVerifier>> Create(JwtVerifierConfig config);

  JwtVerifier(const JwtVerifier&) = delete;
  JwtVerifier& operator=(const JwtVerifier&) = delete;
  ~JwtVerifier();

  // Verifies `token` at wall-clock time `now`.
  JwtVerdict Verify(std::string_view token, std::chrono::system_clock::time_point now) const;
  // Verify, and the token's sub must be `client_id` (else kWrongSub).
  JwtVerdict VerifyFor(std::string_view token, std::string_view client_id,
                       std::chrono::system_clock::time_point now) const;

  // How long from `now` until `claims` expire, leeway included (zero or
  // less: expired); exact, not rounded to seconds.
  std::chrono::system_clock::duration ExpiresIn(const JwtClaims& claims,
                                                std::chrono::system_clock::time_point now) const;

  // The accepted algorithms, for the start-up log: "HS256", "RS256",
  // "HS256+ES256", "JWKS (3 keys)". Says nothing about the keys themselves.
  std::string Describe() const;

 private:
  explicit JwtVerifier(JwtVerifierConfig config);

  JwtVerifierConfig config_;
  // Empty when not accepted; key_pem_ is the key re-encoded by OpenSSL
  // (a certificate's key, normalised), as libjwt reads it.
  std::string key_alg_;  // "RS256" or "ES256"
  std::string key_pem_;
  // From config_.jwks_json, by kid.
  std::vector<JwkKey> jwks_;
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_AUTH_JWT_VERIFIER_H_
