#ifndef OBGW_GATEWAY_TLS_TLS_CONTEXT_H_
#define OBGW_GATEWAY_TLS_TLS_CONTEXT_H_

#include <memory>
#include <string>

#include <absl/base/thread_annotations.h>
#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <boost/asio/ssl/context.hpp>

#include "gateway/fanout/mutex.h"

namespace obgw::gateway {

// The server side of TLS on the HTTP port: the OpenSSL context built from
// --tls_cert_file (PEM, the leaf first, then its chain) and --tls_key_file,
// and its replacement on reload (SIGHUP).
//
// Owns the current context. Threads: Current() is called by every shard
// thread as it accepts a connection; Reload() by the main thread (SIGHUP).
// The context is swapped under a mutex; a connection keeps the context it
// started with for life (OpenSSL counts the SSL_CTX's references from each
// SSL, and the ssl::context holds no callbacks that would dangle), so a
// reload affects new connections only.
//
// Policy (docs/security.md): TLS 1.2 and 1.3 only; for TLS 1.2, ECDHE key
// exchange with AEAD ciphers only (AES-GCM, ChaCha20-Poly1305), for TLS 1.3
// OpenSSL's suites (all AEAD); no compression, no renegotiation.
class TlsContext {
 public:
  // Reads both files and builds a context; a missing or unreadable file, a
  // file that holds no PEM certificate or key, or a key that does not match
  // the certificate fails with a one-line reason (naming the flag and the
  // path, never the key's contents).
  static absl::StatusOr<std::unique_ptr<TlsContext>> Load(std::string cert_file,
                                                          std::string key_file);

  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Any thread: the context new connections use.
  std::shared_ptr<boost::asio::ssl::context> Current() const;

  // Builds a new context from the same files: on success new connections use
  // it; on failure the current one stays and the reason is returned.
  absl::Status Reload();

  // The current certificate, for the log: its subject, serial and expiry.
  std::string Describe() const;

 private:
  TlsContext(std::string cert_file, std::string key_file,
             std::shared_ptr<boost::asio::ssl::context> context);

  static absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> Build(
      const std::string& cert_file, const std::string& key_file);

  const std::string cert_file_;
  const std::string key_file_;
  mutable Mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> context_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_TLS_TLS_CONTEXT_H_
