#include "gateway/tls/tls_context.h"

#include <fstream>
#include <sstream>
#include <utility>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509err.h>

#include <absl/strings/str_cat.h>
#include <boost/asio/ssl/error.hpp>

namespace obgw::gateway {

namespace ssl = boost::asio::ssl;

namespace {

// TLS 1.2 suites: forward secrecy (ECDHE) and AEAD only, as Mozilla's
// "intermediate" profile minus the DHE suites (they need DH parameters and
// are slow). TLS 1.3 keeps OpenSSL's defaults, which are all AEAD.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

absl::StatusOr<std::string> ReadFile(const char* flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": cannot read '", path, "'"));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": cannot read '", path, "'"));
  }
  return contents.str();
}

// OpenSSL's reason for the last failure ("no start line"), and its error
// queue emptied, so that the next connection's errors are its own.
std::string OpenSslReason(const boost::system::error_code& ec) {
  std::string reason = ec.message();
  ERR_clear_error();
  return reason;
}

std::string Asn1Time(const ASN1_TIME* time) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "?";
  std::string text = "?";
  if (ASN1_TIME_print(bio, time) == 1) {
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    if (size > 0) text.assign(data, static_cast<std::size_t>(size));
  }
  BIO_free(bio);
  return text;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsContext>> TlsContext::Load(std::string cert_file,
                                                             std::string key_file) {
  auto context = Build(cert_file, key_file);
  if (!context.ok()) return context.status();
  return std::unique_ptr<TlsContext>(
      new TlsContext(std::move(cert_file), std::move(key_file), *std::move(context)));
}

TlsContext::TlsContext(std::string cert_file, std::string key_file,
                       std::shared_ptr<ssl::context> context)
    : cert_file_(std::move(cert_file)),
      key_file_(std::move(key_file)),
      context_(std::move(context)) {}

std::shared_ptr<ssl::context> TlsContext::Current() const {
  MutexLock lock(mutex_);
  return context_;
}

absl::Status TlsContext::Reload() {
  auto context = Build(cert_file_, key_file_);
  if (!context.ok()) return context.status();
  MutexLock lock(mutex_);
  context_ = *std::move(context);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<ssl::context>> TlsContext::Build(const std::string& cert_file,
                                                                const std::string& key_file) {
  auto cert = ReadFile("tls_cert_file", cert_file);
  if (!cert.ok()) return cert.status();
  auto key = ReadFile("tls_key_file", key_file);
  if (!key.ok()) return key.status();

  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  boost::system::error_code ec;
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    ERR_clear_error();
    return absl::InternalError("TLS: OpenSSL refused the protocol or cipher settings");
  }
  context->set_options(
      ssl::context::default_workarounds | ssl::context::no_compression | SSL_OP_NO_RENEGOTIATION,
      ec);
  if (ec) return absl::InternalError("TLS: " + OpenSslReason(ec));
  context->use_certificate_chain(boost::asio::buffer(*cert), ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_cert_file: '", cert_file, "' holds no usable PEM certificate: ", OpenSslReason(ec)));
  }
  context->use_private_key(boost::asio::buffer(*key), ssl::context::pem, ec);
  // The key's bytes are not needed any more (the context holds its own copy).
  OPENSSL_cleanse(key->data(), key->size());
  // OpenSSL checks the key against the certificate as it loads it.
  const bool mismatch =
      ec && ec.category() == boost::asio::error::get_ssl_category() &&
      ERR_GET_LIB(static_cast<unsigned long>(ec.value())) == ERR_LIB_X509 &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH;
  if (ec && !mismatch) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_key_file: '", key_file, "' holds no usable PEM private key: ", OpenSslReason(ec)));
  }
  if (mismatch || SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_key_file: '", key_file, "' does not match the certificate in '", cert_file, "'"));
  }
  return context;
}

std::string TlsContext::Describe() const {
  std::shared_ptr<ssl::context> context = Current();
  X509* cert = SSL_CTX_get0_certificate(context->native_handle());
  if (cert == nullptr) return "no certificate";
  char subject[256] = {};
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject) - 1);
  std::string serial = "?";
  if (BIGNUM* number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(number)) {
      serial = hex;
      OPENSSL_free(hex);
    }
    BN_free(number);
  }
  return absl::StrCat(subject, ", serial ", serial, ", expires ",
                      Asn1Time(X509_get0_notAfter(cert)));
}

}  // namespace obgw::gateway
