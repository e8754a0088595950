#include "gateway/auth/jwt_verifier.h"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include <absl/status/status.h>
#include <absl/strings/str_cat.h>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "gateway/auth/compact_jws.h"

namespace obgw::gateway {
namespace {

constexpr std::string_view kHs256 = "HS256";
// RFC 7518 3.2: an HS256 key at least as long as the hash output.
constexpr std::size_t kMinSecretBytes = 32;
// Year 9999: anything later is not a date a token issuer means.
constexpr std::int64_t kMaxNumericDate = 253402300799;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct JwtFree {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Bio MemoryBio(std::string_view data) {
  return Bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// The public key of a PEM "PUBLIC KEY" or "CERTIFICATE", or null.
Pkey ReadPublicKey(std::string_view pem) {
  Bio bio = MemoryBio(pem);
  if (!bio) return nullptr;
  Pkey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (key) return key;
  bio = MemoryBio(pem);
  if (!bio) return nullptr;
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return nullptr;
  return Pkey(X509_get_pubkey(cert.get()));
}

std::optional<std::string> WritePublicKey(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return std::nullopt;
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  if (size <= 0 || data == nullptr) return std::nullopt;
  return std::string(data, static_cast<std::size_t>(size));
}

// A NumericDate (RFC 7519 2): a JSON number of seconds, fractions allowed
// (dropped here); nullopt for anything else or out of [0, year 9999].
std::optional<std::int64_t> NumericDate(const boost::json::value& value) {
  std::int64_t seconds = 0;
  if (value.is_int64()) {
    seconds = value.get_int64();
  } else if (value.is_uint64()) {
    if (value.get_uint64() > static_cast<std::uint64_t>(kMaxNumericDate)) return std::nullopt;
    seconds = static_cast<std::int64_t>(value.get_uint64());
  } else if (value.is_double()) {
    double d = value.get_double();
    if (!std::isfinite(d) || d < 0 || d > static_cast<double>(kMaxNumericDate)) {
      return std::nullopt;
    }
    seconds = static_cast<std::int64_t>(std::floor(d));
  } else {
    return std::nullopt;
  }
  if (seconds < 0 || seconds > kMaxNumericDate) return std::nullopt;
  return seconds;
}

bool ValidSub(std::string_view sub) {
  if (sub.size() > JwtVerifier::kMaxSubBytes) return false;
  for (unsigned char c : sub) {
    if (c < 0x20 || c == 0x7F) return false;
  }
  return true;
}

JwtVerdict Refuse(JwtError error) {
  JwtVerdict verdict;
  verdict.error = error;
  return verdict;
}

std::int64_t UnixSeconds(std::chrono::system_clock::time_point now) {
  return std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
}

}  // namespace

std::string_view JwtErrorCode(JwtError error) {
  switch (error) {
#define OBGW_JWT_CODE_(name, code, message) \
  case JwtError::name:                      \
    return code;
    OBGW_JWT_REJECTIONS(OBGW_JWT_CODE_)
#undef OBGW_JWT_CODE_
  }
  return "token_malformed";
}

std::string_view JwtErrorMessage(JwtError error) {
  switch (error) {
#define OBGW_JWT_MESSAGE_(name, code, message) \
  case JwtError::name:                         \
    return message;
    OBGW_JWT_REJECTIONS(OBGW_JWT_MESSAGE_)
#undef OBGW_JWT_MESSAGE_
  }
  return "Not a well-formed JWT";
}

absl::StatusOr<std::unique_ptr<const JwtVerifier>> JwtVerifier::Create(JwtVerifierConfig config) {
  if (config.secret.empty() && config.public_key_pem.empty() && config.jwks_json.empty()) {
    return absl::InvalidArgumentError("JWT: neither a secret, a public key nor a JWKS is set");
  }
  if (!config.secret.empty() && config.secret.size() < kMinSecretBytes) {
    return absl::InvalidArgumentError(absl::StrCat("--jwt_secret: shorter than ", kMinSecretBytes,
                                                   " bytes (RFC 7518 3.2 asks for 256 bits)"));
  }
  if (config.leeway.count() < 0) return absl::InvalidArgumentError("JWT: negative leeway");
  std::unique_ptr<JwtVerifier> verifier(new JwtVerifier(std::move(config)));
  const JwtVerifierConfig& c = verifier->config_;
  if (!c.jwks_json.empty()) {
    absl::StatusOr<std::vector<JwkKey>> keys = ParseJwks(c.jwks_json);
    if (!keys.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(c.jwks_source, ": ", keys.status().message()));
    }
    verifier->jwks_ = *std::move(keys);
  }
  if (c.public_key_pem.empty()) return verifier;
  const std::string& source = c.public_key_source;
  if (c.public_key_pem.find("PRIVATE KEY") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": holds a private key; give the public key (openssl pkey -pubout)"));
  }
  Pkey key = ReadPublicKey(c.public_key_pem);
  if (!key) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not a PEM public key or certificate"));
  }
  switch (EVP_PKEY_get_base_id(key.get())) {
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key.get()) < 2048) {
        return absl::InvalidArgumentError(absl::StrCat(
            source, ": RSA key of ", EVP_PKEY_get_bits(key.get()), " bits; at least 2048 needed"));
      }
      verifier->key_alg_ = "RS256";
      break;
    case EVP_PKEY_EC: {
      char group[64] = {};
      std::size_t length = 0;
      if (EVP_PKEY_get_group_name(key.get(), group, sizeof group, &length) != 1 ||
          (std::string_view(group) != "prime256v1" && std::string_view(group) != "P-256")) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": EC key not on P-256 (ES256 is the one EC algorithm)"));
      }
      verifier->key_alg_ = "ES256";
      break;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": neither an RSA nor an EC P-256 key"));
  }
  std::optional<std::string> pem = WritePublicKey(key.get());
  if (!pem) return absl::InternalError(absl::StrCat(source, ": cannot re-encode the key"));
  verifier->key_pem_ = *std::move(pem);
  return verifier;
}

JwtVerifier::JwtVerifier(JwtVerifierConfig config) : config_(std::move(config)) {}

JwtVerifier::~JwtVerifier() = default;

JwtVerdict JwtVerifier::Verify(std::string_view token,
                               std::chrono::system_clock::time_point now) const {
  if (token.empty() || token.size() > kMaxTokenBytes) return Refuse(JwtError::kMalformed);
  std::optional<CompactJws> jws = ParseCompactJws(token);
  if (!jws) return Refuse(JwtError::kMalformed);

  // The algorithm comes from the gateway's keys: the header only picks one
  // of those, and anything else ("none", HS256 without a secret, RS256 with
  // an EC key...) is refused here, before libjwt trusts the header.
  const boost::json::value* alg_value = jws->header.if_contains("alg");
  const boost::json::string* alg = alg_value ? alg_value->if_string() : nullptr;
  if (alg == nullptr) return Refuse(JwtError::kMalformed);
  // RFC 7515 4.1.11: an extension the verifier does not know must fail.
  if (jws->header.contains("crit")) return Refuse(JwtError::kMalformed);
  std::string_view key;
  jwt_alg_t expected = JWT_ALG_INVAL;
  const boost::json::value* kid_value = jws->header.if_contains("kid");
  if (kid_value != nullptr && !jwks_.empty()) {
    // A JWKS key, by kid; its algorithm is the key's, as for the key file.
    const boost::json::string* kid = kid_value->if_string();
    if (kid == nullptr) return Refuse(JwtError::kMalformed);
    auto it = std::find_if(jwks_.begin(), jwks_.end(),
                           [kid](const JwkKey& jwk) { return jwk.kid == *kid; });
    if (it == jwks_.end()) return Refuse(JwtError::kUnknownKey);
    if (*alg != it->alg) return Refuse(JwtError::kWrongAlgorithm);
    key = it->pem;
    expected = it->alg == "RS256" ? JWT_ALG_RS256 : JWT_ALG_ES256;
  } else if (!config_.secret.empty() && *alg == kHs256) {
    key = config_.secret;
    expected = JWT_ALG_HS256;
  } else if (!key_alg_.empty() && *alg == key_alg_) {
    key = key_pem_;
    expected = key_alg_ == "RS256" ? JWT_ALG_RS256 : JWT_ALG_ES256;
  } else {
    return Refuse(JwtError::kWrongAlgorithm);
  }

  // libjwt reads a NUL-terminated string; it checks the signature with the
  // key of the algorithm chosen above.
  std::string text(token);
  jwt_t* raw = nullptr;
  int rc = jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                      static_cast<int>(key.size()));
  std::unique_ptr<jwt_t, JwtFree> jwt(raw);
  if (rc != 0 || !jwt) return Refuse(JwtError::kBadSignature);
  // Defence in depth: libjwt verified with the algorithm we meant.
  if (jwt_get_alg(jwt.get()) != expected) return Refuse(JwtError::kWrongAlgorithm);

  // The claims, from the payload whose bytes the signature covers.
  const boost::json::object& payload = jws->payload;
  JwtClaims claims;
  const boost::json::value* sub = payload.if_contains("sub");
  if (sub == nullptr || (sub->is_string() && sub->get_string().empty())) {
    return Refuse(JwtError::kMissingSub);
  }
  if (!sub->is_string() || !ValidSub(sub->get_string())) return Refuse(JwtError::kBadClaims);
  claims.sub = sub->get_string();
  // exp is required: a token without one would be valid for ever.
  const boost::json::value* exp = payload.if_contains("exp");
  std::optional<std::int64_t> exp_date = exp ? NumericDate(*exp) : std::nullopt;
  if (!exp_date) return Refuse(JwtError::kBadClaims);
  claims.exp = *exp_date;
  if (const boost::json::value* nbf = payload.if_contains("nbf")) {
    claims.nbf = NumericDate(*nbf);
    if (!claims.nbf) return Refuse(JwtError::kBadClaims);
  }
  if (const boost::json::value* symbols = payload.if_contains("symbols")) {
    const boost::json::array* list = symbols->if_array();
    std::optional<SymbolGrant> grant = list ? SymbolGrant::FromClaim(*list) : std::nullopt;
    if (!grant) return Refuse(JwtError::kBadClaims);
    claims.symbols = *std::move(grant);
  }
  if (!config_.issuer.empty()) {
    const boost::json::value* iss = payload.if_contains("iss");
    if (iss == nullptr || !iss->is_string() || iss->get_string() != config_.issuer) {
      return Refuse(JwtError::kBadClaims);
    }
  }
  if (!config_.audience.empty()) {
    const boost::json::value* aud = payload.if_contains("aud");
    bool found = false;
    if (aud != nullptr && aud->is_string()) found = aud->get_string() == config_.audience;
    if (aud != nullptr && aud->is_array()) {
      for (const boost::json::value& item : aud->get_array()) {
        found = found || (item.is_string() && item.get_string() == config_.audience);
      }
    }
    if (!found) return Refuse(JwtError::kBadClaims);
  }

  const std::int64_t now_s = UnixSeconds(now);
  const std::int64_t leeway = config_.leeway.count();
  // RFC 7519 4.1.4: valid only before exp; 4.1.5: not before nbf.
  if (now_s >= claims.exp + leeway) return Refuse(JwtError::kExpired);
  if (claims.nbf && now_s + leeway < *claims.nbf) return Refuse(JwtError::kNotYetValid);
  JwtVerdict verdict;
  verdict.claims = std::move(claims);
  return verdict;
}

JwtVerdict JwtVerifier::VerifyFor(std::string_view token, std::string_view client_id,
                                  std::chrono::system_clock::time_point now) const {
  JwtVerdict verdict = Verify(token, now);
  if (verdict.ok() && verdict.claims->sub != client_id) return Refuse(JwtError::kWrongSub);
  return verdict;
}

std::chrono::system_clock::duration JwtVerifier::ExpiresIn(
    const JwtClaims& claims, std::chrono::system_clock::time_point now) const {
  // In seconds first: exp may be as late as year 9999, past what a
  // nanosecond duration holds (about 292 years). Longer than a century is,
  // for a connection, for ever.
  constexpr std::int64_t kCentury = 100LL * 365 * 24 * 3600;
  const auto since_epoch = now.time_since_epoch();
  const auto whole = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const std::int64_t remaining =
      std::clamp(claims.exp + config_.leeway.count() - whole.count(), -kCentury, kCentury);
  return std::chrono::seconds(remaining) - (since_epoch - whole);
}

std::string JwtVerifier::Describe() const {
  std::string algorithms;
  if (!config_.secret.empty()) algorithms = kHs256;
  if (!key_alg_.empty()) absl::StrAppend(&algorithms, algorithms.empty() ? "" : "+", key_alg_);
  if (!jwks_.empty()) {
    absl::StrAppend(&algorithms, algorithms.empty() ? "" : "+", "JWKS (", jwks_.size(),
                    jwks_.size() == 1 ? " key)" : " keys)");
  }
  return algorithms;
}

}  // namespace obgw::gateway
