#include "jwt_minter.h"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace obgw::testing {
namespace {

[[noreturn]] void Abort(const char* what) {
  std::fprintf(stderr, "jwt_minter: %s failed\n", what);
  std::abort();
}

std::string Pem(EVP_PKEY* key, bool private_key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  int ok = private_key
               ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)
               : PEM_write_bio_PUBKEY(bio.get(), key);
  if (ok != 1) Abort("PEM_write");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

TestKeyPair Pair(EVP_PKEY* key) {
  if (key == nullptr) Abort("EVP_PKEY_Q_keygen");
  TestKeyPair pair{Pem(key, true), Pem(key, false)};
  EVP_PKEY_free(key);
  return pair;
}

}  // namespace

TestKeyPair GenerateRsaKey(int bits) {
  return Pair(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits)));
}

TestKeyPair GenerateEcKey(std::string_view curve) {
  std::string name(curve);
  return Pair(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", name.c_str()));
}

std::string MintToken(std::string_view alg, std::string_view key, std::string_view claims_json,
                      std::string_view kid) {
  jwt_t* jwt = nullptr;
  if (jwt_new(&jwt) != 0) Abort("jwt_new");
  if (!kid.empty() && jwt_add_header(jwt, "kid", std::string(kid).c_str()) != 0) {
    Abort("jwt_add_header");
  }
  std::string claims(claims_json);
  if (jwt_add_grants_json(jwt, claims.c_str()) != 0) Abort("jwt_add_grants_json");
  std::string alg_name(alg);
  jwt_alg_t id = jwt_str_alg(alg_name.c_str());
  if (id == JWT_ALG_INVAL) Abort("jwt_str_alg");
  int rc = id == JWT_ALG_NONE
               ? jwt_set_alg(jwt, id, nullptr, 0)
               : jwt_set_alg(jwt, id, reinterpret_cast<const unsigned char*>(key.data()),
                             static_cast<int>(key.size()));
  if (rc != 0) Abort("jwt_set_alg");
  char* token = jwt_encode_str(jwt);
  if (token == nullptr) Abort("jwt_encode_str");
  std::string out(token);
  std::free(token);  // libjwt 1.10 allocates with malloc.
  jwt_free(jwt);
  return out;
}

namespace {

std::string Base64Url(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

// A BIGNUM parameter of `key`, big-endian, left-padded to `width` bytes
// (0: its own length), base64url.
std::string BnParam(EVP_PKEY* key, const char* name, int width) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) Abort("EVP_PKEY_get_bn_param");
  int size = width > 0 ? width : BN_num_bytes(bn);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), size);
  BN_free(bn);
  return Base64Url(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

}  // namespace

std::string PublicJwk(const TestKeyPair& pair, std::string_view kid) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pair.public_pem.data(), static_cast<int>(pair.public_pem.size())), &BIO_free);
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) Abort("PEM_read_bio_PUBKEY");
  std::string jwk = "{\"kid\":\"" + std::string(kid) + "\",";
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
    jwk += "\"kty\":\"RSA\",\"n\":\"" + BnParam(key, OSSL_PKEY_PARAM_RSA_N, 0) + "\",\"e\":\"" +
           BnParam(key, OSSL_PKEY_PARAM_RSA_E, 0) + "\"}";
  } else {
    jwk += "\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" +
           BnParam(key, OSSL_PKEY_PARAM_EC_PUB_X, 32) + "\",\"y\":\"" +
           BnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32) + "\"}";
  }
  EVP_PKEY_free(key);
  return jwk;
}

long long UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ClaimsJson(std::string_view sub, long long ttl_s, std::string_view extra) {
  return "{\"sub\":\"" + std::string(sub) + "\",\"exp\":" + std::to_string(UnixNow() + ttl_s) +
         std::string(extra) + "}";
}

const TestKeyPair& Rsa() {
  static const TestKeyPair key = GenerateRsaKey();
  return key;
}

const TestKeyPair& Ec() {
  static const TestKeyPair key = GenerateEcKey();
  return key;
}

}  // namespace obgw::testing
