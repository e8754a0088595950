#include "gateway/auth/jwk_set.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <memory>
#include <optional>

#include <absl/status/status.h>
#include <absl/strings/str_cat.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "gateway/auth/compact_jws.h"

namespace obgw::gateway {
namespace {

struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct BldFree {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using Bignum = std::unique_ptr<BIGNUM, BnFree>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// A member of `key` that must be a base64url string; nullopt otherwise.
std::optional<std::string> Bytes(const boost::json::object& key, std::string_view name) {
  const boost::json::value* value = key.if_contains(name);
  if (value == nullptr || !value->is_string() || value->get_string().empty()) return std::nullopt;
  return DecodeBase64Url(value->get_string());
}

std::string_view StringMember(const boost::json::object& key, std::string_view name) {
  const boost::json::value* value = key.if_contains(name);
  return value != nullptr && value->is_string() ? std::string_view(value->get_string())
                                                : std::string_view();
}

// The public key from OSSL_PARAMs built by `fill`, or null.
template <typename Fill>
Pkey FromData(const char* type, Fill fill) {
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || !fill(bld.get())) return nullptr;
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) return nullptr;
  return Pkey(key);
}

std::optional<std::string> Pem(EVP_PKEY* key) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return std::nullopt;
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  if (size <= 0 || data == nullptr) return std::nullopt;
  return std::string(data, static_cast<std::size_t>(size));
}

absl::StatusOr<JwkKey> ParseKey(const boost::json::object& key) {
  JwkKey out;
  out.kid = StringMember(key, "kid");
  if (out.kid.empty()) return absl::InvalidArgumentError("no kid (a non-empty string)");
  for (std::string_view secret : {"d", "p", "q", "dp", "dq", "qi", "k"}) {
    if (key.contains(secret)) {
      return absl::InvalidArgumentError(
          absl::StrCat("holds private or symmetric key material (\"", std::string(secret), "\")"));
    }
  }
  std::string_view kty = StringMember(key, "kty");
  Pkey pkey;
  if (kty == "RSA") {
    std::optional<std::string> n = Bytes(key, "n");
    std::optional<std::string> e = Bytes(key, "e");
    if (!n || !e) return absl::InvalidArgumentError("RSA key without base64url n and e");
    Bignum bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                          static_cast<int>(n->size()), nullptr));
    Bignum bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                          static_cast<int>(e->size()), nullptr));
    if (!bn_n || !bn_e) return absl::InvalidArgumentError("RSA n or e unreadable");
    pkey = FromData("RSA", [&](OSSL_PARAM_BLD* bld) {
      return OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n.get()) == 1 &&
             OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e.get()) == 1;
    });
    if (!pkey) return absl::InvalidArgumentError("OpenSSL refused the RSA key");
    if (EVP_PKEY_get_bits(pkey.get()) < 2048) {
      return absl::InvalidArgumentError(
          absl::StrCat("RSA key of ", EVP_PKEY_get_bits(pkey.get()), " bits; at least 2048"));
    }
    out.alg = "RS256";
  } else if (kty == "EC") {
    if (StringMember(key, "crv") != "P-256") {
      return absl::InvalidArgumentError("EC key not on P-256 (ES256 is the one EC algorithm)");
    }
    std::optional<std::string> x = Bytes(key, "x");
    std::optional<std::string> y = Bytes(key, "y");
    if (!x || !y || x->size() != 32 || y->size() != 32) {
      return absl::InvalidArgumentError("EC key without 32-byte base64url x and y");
    }
    // SEC 1 uncompressed point: 0x04 || x || y.
    std::string point = "\x04" + *x + *y;
    pkey = FromData("EC", [&](OSSL_PARAM_BLD* bld) {
      return OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ==
                 1 &&
             OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                              point.size()) == 1;
    });
    if (!pkey) return absl::InvalidArgumentError("OpenSSL refused the EC key (not on the curve?)");
    out.alg = "ES256";
  } else if (kty == "oct") {
    return absl::InvalidArgumentError(
        "symmetric key (kty oct): give HS256 secrets as --jwt_secret");
  } else {
    return absl::InvalidArgumentError("kty is neither RSA nor EC");
  }
  if (std::string_view alg = StringMember(key, "alg"); !alg.empty() && alg != out.alg) {
    return absl::InvalidArgumentError(absl::StrCat("alg \"", std::string(alg.substr(0, 16)),
                                                   "\" is not ", out.alg, ", the key's algorithm"));
  }
  std::optional<std::string> pem = Pem(pkey.get());
  if (!pem) return absl::InternalError("cannot re-encode the key");
  out.pem = *std::move(pem);
  return out;
}

}  // namespace

absl::StatusOr<std::vector<JwkKey>> ParseJwks(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value document = boost::json::parse(json, ec);
  const boost::json::object* object = ec ? nullptr : document.if_object();
  const boost::json::value* keys = object ? object->if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array()) {
    return absl::InvalidArgumentError(
        "not a JWK Set: a JSON object with a \"keys\" array expected");
  }
  const boost::json::array& list = keys->get_array();
  if (list.size() > kMaxJwks) {
    return absl::InvalidArgumentError(absl::StrCat("more than ", kMaxJwks, " keys"));
  }
  std::vector<JwkKey> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const boost::json::object* key = list[i].if_object();
    if (key == nullptr)
      return absl::InvalidArgumentError(absl::StrCat("key ", i, ": not an object"));
    // Encryption keys are not for verifying signatures.
    if (std::string_view use = StringMember(*key, "use"); !use.empty() && use != "sig") continue;
    absl::StatusOr<JwkKey> parsed = ParseKey(*key);
    std::string kid(StringMember(*key, "kid").substr(0, 64));
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("key ", i, " (kid \"", kid, "\"): ", parsed.status().message()));
    }
    for (const JwkKey& seen : out) {
      if (seen.kid == parsed->kid) {
        return absl::InvalidArgumentError(absl::StrCat("key ", i, ": kid \"", kid, "\" repeated"));
      }
    }
    out.push_back(*std::move(parsed));
  }
  if (out.empty()) return absl::InvalidArgumentError("no signature key");
  return out;
}

}  // namespace obgw::gateway
